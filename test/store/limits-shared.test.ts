/**
 * Two instances on one Redis take rate capacity from the same counters, so together they stay within
 * the account's per-minute figure for a model, and a Retry-After one of them heard holds the other too.
 * The counters are Redis's (real time); the instances' own spacing runs on a hand-moved clock that these
 * tests never move past what they assert, so nothing here waits.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ModelLimits } from '../../src/qwen/limits.ts';
import { RedisCoordinator } from '../../src/store/coordination.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('shared limits tests: REDIS_URL is not set, skipping (they need a Redis server)');
const runPrefix = `qwenbot-test-limits-${process.pid}-${Date.now()}`;
const coordinators: RedisCoordinator[] = [];

afterAll(async () => {
  for (const c of coordinators) await c.close();
  if (REDIS_URL) await deleteRedisKeys(runPrefix, REDIS_URL);
});

async function instance(clock: ManualClock, name: string, rpm: number): Promise<ModelLimits> {
  const c = await RedisCoordinator.connect({ url: REDIS_URL ?? '', instance: name, prefix: runPrefix });
  coordinators.push(c);
  return new ModelLimits({
    rate: () => ({ rpm, tpm: 1_000_000 }),
    maxQueue: 100,
    showAfterMs: 60_000,
    clock,
    shared: (n, points, sec) => c.limiter(n, points, sec),
  });
}

/**
 * Lets what is under way finish: a PING on each instance's connection returns only after the replies to
 * every command sent on it before (one connection answers in order), so a counter call in flight has
 * landed by then, however slow Redis is; a few rounds cover the calls those replies lead to.
 */
const settle = async (clock: ManualClock) => {
  for (let i = 0; i < 10; i++) {
    await clock.advance(0);
    for (const c of coordinators) await c.client.ping();
  }
};

describe.skipIf(!REDIS_URL)('rate limits shared on Redis', () => {
  it('two instances together get the minute’s 3 requests, not 3 each', async () => {
    const clock = new ManualClock();
    const a = await instance(clock, 'a', 3);
    const b = await instance(clock, 'b', 3);
    for (const l of [a, b, a, b, a, b]) void l.acquire('qwen-plus', { tokens: 10 });
    // 40 s of each instance's own spacing (one call per 20 s at 3 RPM) lets each send 3 on its own;
    // Redis's minute (real time, not over) holds the pair to 3.
    for (let s = 0; s < 4; s++) {
      await settle(clock);
      await clock.advance(10_000);
    }
    await settle(clock);
    expect(a.granted + b.granted).toBe(3);
    expect(a.waiting + b.waiting).toBe(3);
  });

  it('a Retry-After heard by one instance holds the other', async () => {
    const clock = new ManualClock();
    const a = await instance(clock, 'a2', 600);
    const b = await instance(clock, 'b2', 600);
    a.pause('qwen-turbo', 30_000);
    await settle(clock);
    void b.acquire('qwen-turbo', { tokens: 10 });
    await settle(clock);
    expect(b.granted).toBe(0);
    expect(b.waiting).toBe(1);
  });
});
