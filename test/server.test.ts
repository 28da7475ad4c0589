import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { type RunningBot, runBot } from '../src/server.ts';
import { type DashScopeSim, startDashScopeSim } from './support/dashscope-sim.ts';
import { fakeAdapter } from './support/fake-adapter.ts';
import { until } from './support/fake-time.ts';
import { LogSink, message, TEST_API_KEY, testConfig } from './support/harness.ts';
import { RecordingSurface } from './support/recording-surface.ts';

let bot: RunningBot | undefined;
let sim: DashScopeSim | undefined;
afterEach(async () => {
  await bot?.shutdown('test end');
  await sim?.close();
  bot = undefined;
  sim = undefined;
});

async function start(ready: { value: boolean }, overrides: Record<string, unknown> = {}) {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  const config = testConfig(sim.baseUrl, 'sqlite://:memory:', { http: { port: 0 }, ...overrides });
  const fake = fakeAdapter('fakechat', () => ready.value);
  bot = await runBot(config, [{ platform: 'fakechat', start: async () => fake }], {
    log: createLogger({ destination: new LogSink() }),
  });
  return `http://127.0.0.1:${bot.http.port}`;
}

describe('HTTP server', () => {
  it('/healthz is alive; /readyz reports store and adapters; /metrics counts messages, tokens and latency', async () => {
    const ready = { value: true };
    const base = await start(ready);
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const readyRes = await fetch(`${base}/readyz`);
    expect([readyRes.status, await readyRes.json()]).toEqual([200, { status: 'ready' }]);
    ready.value = false;
    const notReady = await fetch(`${base}/readyz`);
    expect([notReady.status, await notReady.json()]).toEqual([
      503,
      { status: 'not ready', failures: { fakechat: 'disconnected' } },
    ]);

    await bot?.app.service.handleMessage(message('hello metrics'), new RecordingSurface());
    await bot?.app.service.handleMessage(message('hi', { addressed: false }), new RecordingSurface());
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('qwenbot_messages_total{platform="test",outcome="answered"} 1');
    expect(metrics).toContain('qwenbot_messages_total{platform="test",outcome="ignored"} 1');
    expect(metrics).toMatch(/qwenbot_tokens_total\{model="qwen-plus",kind="prompt"\} [1-9]/);
    expect(metrics).toMatch(/qwenbot_first_visible_seconds_count\{platform="test"\} 1/);
    expect(metrics).toContain('qwenbot_active_streams 0');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe('graceful shutdown', () => {
  it('lets short answers finish, cuts long ones with a restarting line, keeps history, refuses new messages', async () => {
    await start({ value: true }, { shutdown: { graceSeconds: 0.2 } });
    const running = bot as RunningBot;
    sim?.script({ text: 'word '.repeat(400), chunkChars: 5, chunkDelayMs: 5 });
    const surface = new RecordingSurface();
    const answer = running.app.service.handleMessage(message('long answer please'), surface);
    await until(() => surface.transcript().includes('word word'), 'the long answer to start');
    const draining = running.app.service.drain(200);
    const late = new RecordingSurface();
    await running.app.service.handleMessage(message('one more?'), late);
    expect(late.shown()).toEqual(['⚠️ The bot is restarting; please ask again in a minute.']);
    const outcome = await answer;
    await draining;
    expect(outcome).toMatchObject({ status: 'error', errorCode: 'restarting' });
    const shown = surface.shown()[0] ?? '';
    expect(shown).toMatch(/^(word )+\s*\n\n⚠️ The bot is restarting; this answer was cut short\.$/);
    expect(shown.length).toBeLessThan(2000);
    const turns = await running.app.service.history.load('test:W1:C1');
    expect(turns.map((t) => [t.role, t.status ?? null])).toEqual([
      ['user', null],
      ['assistant', 'interrupted'],
    ]);
    expect(turns[1]?.text).toMatch(/^(word )+/);
    await running.shutdown('SIGTERM');
    bot = undefined;
  });
});
