/**
 * MCP servers in the running bot (runBot): /readyz lists each server's state without a failed one making
 * the bot unready; answers go on while a server is down; a tool that fails or times out reaches the
 * model as a tool result; Stop cancels a tool call in flight.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { type RunningBot, runBot } from '../../src/server.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { fakeAdapter } from '../support/fake-adapter.ts';
import { until } from '../support/fake-time.ts';
import { LogSink, message, TEST_API_KEY, testConfig } from '../support/harness.ts';
import { startHttpMcp, type TestHttpMcp } from '../support/mcp-servers.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let bot: RunningBot | undefined;
let sim: DashScopeSim | undefined;
let web: TestHttpMcp | undefined;
afterEach(async () => {
  await bot?.shutdown('test end');
  await sim?.close();
  await web?.close();
  bot = undefined;
  sim = undefined;
  web = undefined;
});

async function start(tools: Record<string, unknown> = {}) {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  web = await startHttpMcp();
  const logs = new LogSink();
  const config = testConfig(sim.baseUrl, 'sqlite://:memory:', {
    http: { port: 0 },
    faq: { enabled: false },
    mcp: { servers: { broken: { command: '/nonexistent/mcp-server' }, web: { url: web.url } } },
    tools,
  });
  const fake = fakeAdapter('fakechat', () => true);
  bot = await runBot(config, [{ platform: 'fakechat', start: async () => fake }], {
    log: createLogger({ level: 'debug', destination: logs }),
  });
  await bot.app.tools.hub.settled();
  return { base: `http://127.0.0.1:${bot.http.port}`, logs, bot, sim, web };
}

type Body = { messages: Array<{ role: string; content: unknown; tool_call_id?: string }> };
const toolResults = (body: Body | undefined) =>
  Object.fromEntries(
    (body?.messages ?? []).filter((m) => m.role === 'tool').map((m) => [m.tool_call_id, m.content]),
  );

describe('MCP servers in the running bot', () => {
  it('/readyz is 200 with a failed server listed; answers go on; failures and timeouts reach the model', async () => {
    const { base, logs, sim } = await start({ callTimeoutMs: 1500 });
    const res = await fetch(`${base}/readyz`);
    const body = (await res.json()) as {
      status: string;
      details: { mcp: Record<string, Record<string, unknown>> };
    };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.details.mcp.web).toEqual({ state: 'ready', tools: 5 });
    expect(body.details.mcp.broken).toMatchObject({ state: 'failed', tools: 0, error: 'command not found' });
    expect(Date.parse(String(body.details.mcp.broken?.retryAt))).toBeGreaterThan(Date.now());
    expect(logs.text).toContain('MCP server unavailable');

    sim.script(
      {
        toolCalls: [
          { name: 'web__sleep', arguments: '{"ms":30000}' },
          { name: 'web__fail', arguments: '{}' },
        ],
      },
      { text: 'Neither tool worked; here is what I know.' },
    );
    const surface = new RecordingSurface();
    const outcome = await bot?.app.service.handleMessage(message('weather?'), surface);
    expect(outcome?.status).toBe('answered');
    const [first, second] = sim.chatRequests().slice(-2);
    const offered = ((first?.tools ?? []) as Array<{ function: { name: string } }>)
      .map((t) => t.function.name)
      .sort();
    expect(offered).toEqual([
      'web__add-tool',
      'web__fail',
      'web__long-text',
      'web__sleep',
      'web__wait-for-peer',
    ]);
    expect(Object.values(toolResults(second as Body | undefined))).toEqual([
      '{"error":"timed out after 1.5 s; the call was cancelled"}',
      '{"error":"the weather service is down"}',
    ]);
    // No tool helped: no "used" line.
    expect(surface.shown()).toEqual(['Neither tool worked; here is what I know.']);
  });

  it('after tools.maxSteps rounds the model is asked without tools; a server switched off is not offered', async () => {
    const { sim } = await start({ maxSteps: 2 });
    const round = { toolCalls: [{ name: 'web__long-text', arguments: '{"n":10}' }] };
    sim.script(round, round, { text: 'Enough looking things up.' });
    const surface = new RecordingSurface();
    expect((await bot?.app.service.handleMessage(message('dig deep'), surface))?.status).toBe('answered');
    const sent = sim.chatRequests().slice(-3);
    expect(sent.map((b) => (b.tools as unknown[] | undefined)?.length ?? 0)).toEqual([5, 5, 0]);
    expect(sent[2]?.messages.filter((m) => m.role === 'tool')).toHaveLength(2);
    expect(surface.shown()).toEqual(['Enough looking things up.\n\n🔧 used web.long-text']);

    // An admin's switch (what /tools disable stores) keeps the server's tools out of the next answer.
    await bot?.app.service.settings.update('test:W1:C1', { tools: { web: false } });
    sim.script({ text: 'No tools this time.' });
    await bot?.app.service.handleMessage(message('and now?'), new RecordingSurface());
    expect(sim.chatRequests().at(-1)?.tools).toBeUndefined();
  });

  it('Stop during a tool call cancels it on the server and ends the answer as stopped', async () => {
    const { sim, web } = await start();
    sim.script({ toolCalls: [{ name: 'web__sleep', arguments: '{"ms":60000}' }] });
    const surface = new RecordingSurface();
    const question = message('take your time');
    const answer = bot?.app.service.handleMessage(question, surface);
    await until(() => web.sleeping === 1, 'the tool call to start');
    await until(() => surface.transcript().includes('🔧 web.sleep…'), 'the status line');
    expect(bot?.app.service.stop(question.id, question.author)).toBe(true);
    const outcome = await answer;
    expect(outcome?.status).toBe('stopped');
    await until(() => web.cancelled === 1, 'the server to see the cancellation');
    expect(sim.chatRequests()).toHaveLength(1);
  });
});
