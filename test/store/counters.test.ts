import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CounterDelta, LocalCoordinator, RedisCoordinator } from '../../src/store/coordination.ts';
import { closeStore, createStore } from '../../src/store/index.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { type Harness, message, startHarness, TEST_API_KEY } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';
import { watchStoreTraffic } from '../support/store-traffic.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('counter tests: REDIS_URL is not set, skipping the Redis variants');
const runPrefix = `qwenbot-test-counters-${process.pid}-${Date.now()}`;
const DAY = 86_400_000;

/** One answer's usage in the six buckets it counts in (as UsageStore.record writes them). */
function answerUsage(n: number): CounterDelta[] {
  const deltas = { answers: 1, promptTokens: 100 + n, completionTokens: 7 * n, cost: 0.0001 * n + 0.1 };
  return ['conv:a', 'conv:b', 'user:U1', 'user:U2', 'ws:W', 'ws:W:all']
    .filter((_, i) => i >= 2 || i === n % 2)
    .map((scope) => ({ key: `usage:v1:${scope}`, deltas, ttlMs: 40 * DAY }));
}

/** What adding the same deltas one at a time, in the same order, gives. */
function summed(batches: CounterDelta[][]): Map<string, Record<string, number>> {
  const totals = new Map<string, Record<string, number>>();
  for (const batch of batches)
    for (const { key, deltas } of batch) {
      const t = totals.get(key) ?? {};
      for (const [field, d] of Object.entries(deltas)) t[field] = (t[field] ?? 0) + d;
      totals.set(key, t);
    }
  return totals;
}

describe('counters that only add up, on SQLite (one process)', () => {
  it('50 answers counted at once land in a few batched writes, exact, and survive a restart', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-counters-')), 'c.sqlite');
    const store = await createStore(`sqlite://${file}`);
    const counters = new LocalCoordinator(store);
    const { traffic } = watchStoreTraffic(store);
    const batches = Array.from({ length: 50 }, (_, n) => answerUsage(n));
    await Promise.all(batches.map((b) => counters.addMany(b)));
    // main: a read and a write per counter and answer (50 × 5 × 2 = 500 queries).
    expect(traffic.roundTrips).toBeLessThanOrEqual(4);
    const expected = summed(batches);
    for (const [key, totals] of expected) expect(await counters.read(key)).toEqual(totals);
    await closeStore(store);

    // What the next process reads is what was written, not what this one remembered.
    const reopened = await createStore(`sqlite://${file}`);
    const next = new LocalCoordinator(reopened);
    for (const [key, totals] of expected) expect(await next.read(key)).toEqual(totals);
    await next.add('usage:v1:user:U1', { answers: 1 });
    expect((await next.read('usage:v1:user:U1'))?.answers).toBe(51);
    await closeStore(reopened);
  });

  it('a counter deleted by /forget starts again from zero, also while answers are being counted', async () => {
    const store = await createStore('sqlite://:memory:');
    const counters = new LocalCoordinator(store);
    await counters.addMany(answerUsage(1));
    const counting = counters.addMany(answerUsage(2));
    const removed = counters.remove(['usage:v1:user:U1']);
    await Promise.all([counting, removed]);
    expect(await counters.read('usage:v1:user:U1')).toBeUndefined();
    expect(await store.get('usage:v1:user:U1')).toBeUndefined();
    await counters.addMany(answerUsage(3));
    expect((await counters.read('usage:v1:user:U1'))?.answers).toBe(1);
    expect((await store.get<Record<string, number>>('usage:v1:user:U1'))?.answers).toBe(1);
    await closeStore(store);
  });
});

describe.skipIf(!REDIS_URL)('counters across instances (Redis)', () => {
  let sim: DashScopeSim;
  const harnesses: Harness[] = [];
  beforeAll(async () => {
    sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  });
  afterAll(async () => {
    for (const h of harnesses) await h.close().catch(() => undefined);
    await sim?.close();
    await deleteRedisKeys(runPrefix, REDIS_URL ?? '');
  });

  it('two coordinators adding batches at once: every total is exact', async () => {
    const open = () => RedisCoordinator.connect({ url: REDIS_URL ?? '', prefix: `${runPrefix}-raw` });
    const [a, b] = [await open(), await open()];
    const batches = Array.from({ length: 40 }, (_, n) => answerUsage(n));
    await Promise.all(batches.map((batch, n) => (n % 2 ? a : b).addMany(batch)));
    for (const [key, totals] of summed(batches)) {
      const read = await a.read(key);
      expect(read?.answers).toBe(totals.answers);
      expect(read?.promptTokens).toBe(totals.promptTokens);
      expect(read?.completionTokens).toBe(totals.completionTokens);
      expect(read?.cost).toBeCloseTo(totals.cost ?? 0, 9);
    }
    await a.close();
    await b.close();
  });

  it('answers on two instances at once: /usage adds up to the tokens stored with the answers', async () => {
    const ns = `${runPrefix}-usage`;
    const open = async () => {
      const h = await startHarness({
        storeUrl: REDIS_URL,
        reuseSim: sim,
        namespace: ns,
        config: { faq: { enabled: false }, guards: { userMessagesPerWindow: 100 } },
      });
      harnesses.push(h);
      return h;
    };
    const [a, b] = [await open(), await open()];
    const channels = Array.from({ length: 12 }, (_, i) => `C${i}`);
    const outcomes = await Promise.all(
      channels.map((channel, i) =>
        (i % 2 ? a : b).app.service.handleMessage(
          message(`question ${i}`, {
            conversation: { platform: 'test', workspace: 'W1', channel, isDM: false },
          }),
          new RecordingSurface(),
        ),
      ),
    );
    expect(outcomes.map((o) => o.status + ('reason' in o ? ` ${o.reason}` : ''))).toEqual(
      channels.map(() => 'answered'),
    );
    let prompt = 0;
    let completion = 0;
    for (const channel of channels) {
      const turns = await a.app.service.history.load(`test:W1:${channel}`);
      const usage = turns.find((t) => t.role === 'assistant')?.usage;
      prompt += usage?.promptTokens ?? 0;
      completion += usage?.completionTokens ?? 0;
    }
    expect(prompt).toBeGreaterThan(0);
    for (const scope of [
      { kind: 'user', platform: 'test', id: 'U1' },
      { kind: 'workspace', platform: 'test', id: 'W1' },
    ] as const) {
      const totals = await b.app.service.usage.totals(scope);
      expect(totals.all).toMatchObject({ answers: 12, promptTokens: prompt, completionTokens: completion });
      expect(totals.today).toMatchObject({ answers: 12, promptTokens: prompt, completionTokens: completion });
    }
  });
});
