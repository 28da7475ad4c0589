/**
 * A running bot keeps no fetch timings: Node buffers one PerformanceResourceTiming per fetch (the first
 * 250) in the process until cleared, and nothing in the bot reads them.
 */
import { afterEach, expect, test } from 'vitest';
import { createLogger } from '../src/log.ts';
import { type RunningBot, runBot } from '../src/server.ts';
import { type DashScopeSim, startDashScopeSim } from './support/dashscope-sim.ts';
import { fakeAdapter } from './support/fake-adapter.ts';
import { LogSink, message, TEST_API_KEY, testConfig } from './support/harness.ts';
import { RecordingSurface } from './support/recording-surface.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

test('answers leave no resource timing entries behind', async () => {
  const sim: DashScopeSim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  closers.push(() => sim.close());
  const config = testConfig(sim.baseUrl, 'sqlite://:memory:', { http: { port: 0 } });
  const bot: RunningBot = await runBot(
    config,
    [{ platform: 'fakechat', start: async () => fakeAdapter('fakechat', () => true) }],
    {
      log: createLogger({ destination: new LogSink() }),
    },
  );
  closers.push(() => bot.shutdown('test end'));
  for (const text of ['one', 'two', 'three']) {
    const surface = new RecordingSurface();
    await bot.app.service.handleMessage(message(text), surface);
    expect(surface.transcript()).toContain(text);
  }
  // Each answer fetched from the model at least once.
  expect(sim.chatRequests().length).toBeGreaterThanOrEqual(3);
  // A fetch's entry is buffered when its body is done: let those callbacks run.
  await new Promise((resolve) => setImmediate(resolve));
  expect(performance.getEntriesByType('resource')).toHaveLength(0);
});
