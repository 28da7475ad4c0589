/**
 * What /metrics tells an operator: the queue gauge at rest, the process's own metrics, and slash
 * commands counted the same way on Discord and Slack.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { type RunningBot, runBot } from '../src/server.ts';
import { startDiscordHarness } from './discord/harness.ts';
import { ALICE, startRig } from './slack/rig.ts';
import { LONG_SYSTEM_PROMPT } from './support/cache-usage.ts';
import { type DashScopeSim, startDashScopeSim } from './support/dashscope-sim.ts';
import { fakeAdapter } from './support/fake-adapter.ts';
import { slash } from './support/fake-slack/index.ts';
import { LogSink, message, TEST_API_KEY, testConfig } from './support/harness.ts';
import { RecordingSurface } from './support/recording-surface.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A metric's value in Prometheus text, e.g. value(text, 'qwenbot_queue_depth'). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('reads a queue depth of 0 when idle, after answers, and includes the process metrics', async () => {
    const sim: DashScopeSim = await startDashScopeSim({ apiKey: TEST_API_KEY });
    closers.push(() => sim.close());
    const config = testConfig(sim.baseUrl, 'sqlite://:memory:', { http: { port: 0 } });
    const fake = fakeAdapter('fakechat', () => true);
    const bot: RunningBot = await runBot(config, [{ platform: 'fakechat', start: async () => fake }], {
      log: createLogger({ destination: new LogSink() }),
    });
    closers.push(() => bot.shutdown('test end'));
    const scrape = async () => (await fetch(`http://127.0.0.1:${bot.http.port}/metrics`)).text();
    expect(value(await scrape(), 'qwenbot_queue_depth')).toBe(0);
    await bot.app.service.handleMessage(message('one'), new RecordingSurface());
    await bot.app.service.handleMessage(message('two'), new RecordingSurface());
    const after = await scrape();
    expect(value(after, 'qwenbot_messages_total{platform="test",outcome="answered"}')).toBe(2);
    expect(value(after, 'qwenbot_queue_depth')).toBe(0);
    expect(value(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });

  it('counts cached and cache-written prompt tokens and the saving, as /usage adds them up', async () => {
    const sim: DashScopeSim = await startDashScopeSim({ apiKey: TEST_API_KEY });
    closers.push(() => sim.close());
    const config = testConfig(sim.baseUrl, 'sqlite://:memory:', {
      http: { port: 0 },
      systemPrompt: LONG_SYSTEM_PROMPT,
    });
    const fake = fakeAdapter('fakechat', () => true);
    const bot: RunningBot = await runBot(config, [{ platform: 'fakechat', start: async () => fake }], {
      log: createLogger({ destination: new LogSink() }),
    });
    closers.push(() => bot.shutdown('test end'));
    for (const text of ['one', 'two', 'three'])
      await bot.app.service.handleMessage(message(text), new RecordingSurface());
    const text = await (await fetch(`http://127.0.0.1:${bot.http.port}/metrics`)).text();
    const totals = (await bot.app.service.usage.totals({ kind: 'conversation', key: 'test:W1:C1' })).today;
    expect(totals.cachedTokens).toBeGreaterThan(2000);
    expect(value(text, 'qwenbot_tokens_total{model="qwen-plus",kind="cached"}')).toBe(totals.cachedTokens);
    expect(value(text, 'qwenbot_tokens_total{model="qwen-plus",kind="cache_write"}')).toBe(
      totals.cacheCreationTokens,
    );
    expect(value(text, 'qwenbot_cache_saving_estimate{model="qwen-plus"}')).toBeCloseTo(
      totals.cacheSaving,
      9,
    );
    expect(totals.cacheSaving).toBeGreaterThan(0);
  });

  it('counts slash commands on Slack and Discord under the same metric and labels', async () => {
    const rig = await startRig({ mode: 'socket' });
    closers.push(() => rig.close());
    await rig.fake.socket.deliverCommand(slash(rig.fake, { user: ALICE, channel: 'D0ALICE', text: 'reset' }));
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    expect(rig.fake.responses.map((r) => r.body.text)).toEqual(['History cleared for this conversation.']);
    const slackText = await rig.app.metrics.registry.metrics();
    expect(
      value(slackText, 'qwenbot_slash_commands_total{platform="slack",command="reset",outcome="ok"}'),
    ).toBe(1);

    const h = await startDiscordHarness();
    closers.push(() => h.close());
    const it = h.fake.slash({ user: h.alice, channelId: h.general.id, name: 'reset' });
    await h.fake.waitFor(
      () => (it.originalId ? (h.fake.state.findMessage(it.originalId)?.edits ?? 0) > 0 : false),
      10_000,
      'the reply',
    );
    expect(h.fake.state.findMessage(it.originalId ?? '')?.content).toBe(
      'History cleared for this conversation.',
    );
    const discordText = await h.app.metrics.registry.metrics();
    expect(
      value(discordText, 'qwenbot_slash_commands_total{platform="discord",command="reset",outcome="ok"}'),
    ).toBe(1);
  });

  it('counts the 429s Discord and Slack answered under one metric, by platform', async () => {
    const h = await startDiscordHarness();
    closers.push(() => h.close());
    h.sim.script({ text: 'Limited but complete, in several small pieces.', chunkChars: 6, chunkDelayMs: 60 });
    h.fake.forceRateLimit('PATCH', '/channels/:id/messages/:id', 2, 0.2);
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: h.general.id, content: h.mention('go') });
    expect((await turn)[0]?.status).toBe('answered');
    expect(h.fake.rateLimited).toBe(2);
    const discordText = await h.app.metrics.registry.metrics();
    expect(value(discordText, 'qwenbot_platform_rate_limits_total{platform="discord"}')).toBe(2);

    const rig = await startRig();
    closers.push(() => rig.close());
    rig.sim.script({
      text: 'A steady answer that arrives in many small pieces.',
      chunkChars: 4,
      chunkDelayMs: 60,
    });
    rig.fake.rateLimitNext('chat.update', 1);
    await rig.deliver(rig.say({ channel: 'D0ALICE', text: 'go' }));
    expect(rig.fake.count('chat.update', 'ratelimited')).toBe(1);
    const slackText = await rig.app.metrics.registry.metrics();
    expect(value(slackText, 'qwenbot_platform_rate_limits_total{platform="slack"}')).toBe(1);
  });
});
