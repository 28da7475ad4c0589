/**
 * The account-wide rate limiter on its own, on a hand-moved clock: calls go out spaced to RPM/60 per
 * second in arrival order, the minute's tokens bound what may start, usage corrects the estimate, a
 * Retry-After holds the model, places are told as they move, and the queue is bounded.
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { describe, expect, test } from 'vitest';
import { QwenError } from '../../src/qwen/errors.ts';
import { type Grant, ModelLimits, type ModelLimitsOptions } from '../../src/qwen/limits.ts';
import { ManualClock } from '../support/manual-clock.ts';

function limits(clock: ManualClock, extra: Partial<ModelLimitsOptions> = {}) {
  return new ModelLimits({
    rate: () => ({ rpm: 60, tpm: 10_000 }),
    maxQueue: 100,
    showAfterMs: 1000,
    clock,
    ...extra,
  });
}

/** Starts calls and notes when (on the clock) each was granted. */
function track(clock: ManualClock, l: ModelLimits, n: number, tokens = 100) {
  const grantedAt: Array<number | undefined> = new Array(n).fill(undefined);
  const grants: Array<Promise<Grant>> = [];
  for (let i = 0; i < n; i++) {
    const p = l.acquire('qwen-plus', { tokens });
    p.then(
      () => (grantedAt[i] = clock.now()),
      () => undefined,
    );
    grants.push(p);
  }
  return { grantedAt, grants };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ModelLimits', () => {
  test('a burst goes out one per second at 60 RPM, in arrival order', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const l = limits(clock);
    const { grantedAt } = track(clock, l, 5);
    await settle();
    expect(grantedAt.map((t) => (t === undefined ? t : t - start))).toEqual([
      0,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    await clock.advance(4000);
    expect(grantedAt.map((t) => (t ?? 0) - start)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(l.waiting).toBe(0);
  });

  test('the minute’s tokens bound what may start; usage replaces the estimate', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const l = limits(clock, { rate: () => ({ rpm: 6000, tpm: 1000 }) });
    const first = await l.acquire('qwen-plus', { tokens: 600 });
    const second = l.acquire('qwen-plus', { tokens: 600 });
    let at: number | undefined;
    void second.then(() => (at = clock.now()));
    await clock.advance(30_000);
    expect(at).toBeUndefined();
    // The first call turned out to cost 300 tokens, not 600: the second fits now, without waiting on.
    first.settle(300);
    await clock.advance(0);
    expect(at).toBe(start + 30_000);
  });

  test('a call settled after it left the minute’s window no longer counts against the next ones', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const l = limits(clock, { rate: () => ({ rpm: 6000, tpm: 1000 }) });
    const long = await l.acquire('qwen-plus', { tokens: 600 });
    await clock.advance(61_000);
    await l.acquire('qwen-plus', { tokens: 100 });
    // The long answer ends after a minute and turns out to have cost 900 tokens: outside the window now.
    long.settle(900);
    let at: number | undefined;
    void l.acquire('qwen-plus', { tokens: 900 }).then(() => (at = clock.now()));
    await clock.advance(10);
    expect(at).toBe(start + 61_010);
  });

  test('a Retry-After pause holds every call to the model until it has passed', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const l = limits(clock, { rate: () => ({ rpm: 6000, tpm: 100_000 }) });
    l.pause('qwen-plus', 3000);
    const { grantedAt } = track(clock, l, 2);
    await clock.advance(2999);
    expect(grantedAt).toEqual([undefined, undefined]);
    await clock.advance(1);
    await clock.advance(10);
    expect(grantedAt.map((t) => (t ?? 0) - start)).toEqual([3000, 3010]);
  });

  test('a waiting call is told its place after a second, and again as it moves', async () => {
    const clock = new ManualClock();
    const l = limits(clock, { showAfterMs: 500 });
    const seen: Array<Array<number | null>> = [[], [], []];
    for (let i = 0; i < 3; i++) void l.acquire('qwen-plus', { tokens: 1, onQueued: (a) => seen[i]?.push(a) });
    await clock.advance(499);
    expect(seen).toEqual([[], [], []]);
    await clock.advance(1);
    expect(seen).toEqual([[], [0], [1]]);
    await clock.advance(500);
    expect(seen).toEqual([[], [0, null], [1, 0]]);
  });

  test('a call whose turn comes the moment its line is due never shows the line', async () => {
    const clock = new ManualClock();
    const l = limits(clock, { showAfterMs: 1000 });
    const seen: Array<Array<number | null>> = [[], [], []];
    for (let i = 0; i < 3; i++) void l.acquire('qwen-plus', { tokens: 1, onQueued: (a) => seen[i]?.push(a) });
    await clock.advance(1000);
    // The second goes at 1 s exactly and shows nothing; the third, still waiting, is told its place as
    // the second leaves (both in the same instant: one edit on the platform).
    expect(seen).toEqual([[], [], [1, 0]]);
  });

  test('a caller that gives up leaves the line and the ones behind move up', async () => {
    const clock = new ManualClock();
    const l = limits(clock, { showAfterMs: 0 });
    const controller = new AbortController();
    const places: Array<number | null> = [];
    void l.acquire('qwen-plus', { tokens: 1 });
    const gone = l.acquire('qwen-plus', { tokens: 1, signal: controller.signal });
    void l.acquire('qwen-plus', { tokens: 1, onQueued: (a) => places.push(a) });
    await clock.advance(0);
    expect(places).toEqual([1]);
    controller.abort();
    await expect(gone).rejects.toMatchObject({ code: 'aborted' });
    expect(places).toEqual([1, 0]);
    expect(l.waiting).toBe(1);
  });

  test('beyond the queue bound a call is refused at once with queue_full', async () => {
    const clock = new ManualClock();
    const l = limits(clock, { maxQueue: 2 });
    void l.acquire('qwen-plus', { tokens: 1 });
    void l.acquire('qwen-plus', { tokens: 1 });
    await settle();
    // One was granted at once; two wait; a third waiting call is one too many.
    void l.acquire('qwen-plus', { tokens: 1 });
    const refused = l.acquire('qwen-plus', { tokens: 1 });
    await expect(refused).rejects.toBeInstanceOf(QwenError);
    await expect(refused).rejects.toMatchObject({ code: 'queue_full' });
  });

  test('two instances sharing counters keep one account rate between them', async () => {
    const clock = new ManualClock();
    const counters = new Map<string, RateLimiterMemory>();
    // Both instances get the same counter object per name, as with Redis.
    const shared = (name: string, points: number, duration: number) => {
      const c = counters.get(name) ?? new RateLimiterMemory({ points, duration });
      counters.set(name, c);
      return c;
    };
    // Each instance alone would send 2 in 25 s (one per 20 s at 3 RPM); the shared minute holds 3.
    const rate = () => ({ rpm: 3, tpm: 100_000 });
    const a = limits(clock, { rate, shared });
    const b = limits(clock, { rate, shared });
    const got: string[] = [];
    for (const [name, l] of [
      ['a', a],
      ['b', b],
      ['a', a],
      ['b', b],
    ] as const)
      void l.acquire('qwen-plus', { tokens: 1 }).then(() => got.push(name));
    await clock.advance(25_000);
    expect(got.length).toBe(3);
  });
});
