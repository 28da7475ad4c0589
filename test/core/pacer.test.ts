/** The pacer's per-channel buckets: bounded by activity, and forgetting one never loosens its budget. */

import { RateLimiterMemory } from 'rate-limiter-flexible';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { EditPacer } from '../../src/core/pacer.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-12-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

const ONE_PER_SECOND = { points: 1, durationSec: 1 };

test('buckets of channels that went quiet are forgotten: 1,000 channels leave only the active one', async () => {
  const pacer = new EditPacer();
  for (let i = 0; i < 1000; i++) await pacer.acquire(`discord:channel-${i}`, ONE_PER_SECOND);
  expect(pacer.size).toBe(1000);

  await vi.advanceTimersByTimeAsync(11_000);
  await pacer.acquire('discord:channel-now', ONE_PER_SECOND);
  expect(pacer.size).toBe(1);
});

test('a bot that goes quiet lets go of its buckets without waiting for another request', async () => {
  const pacer = new EditPacer();
  for (let i = 0; i < 1000; i++) await pacer.acquire(`discord:channel-${i}`, ONE_PER_SECOND);
  expect(pacer.size).toBe(1000);

  // Nothing more is asked for: the memory bench measures a bot in this state.
  await vi.advanceTimersByTimeAsync(10_001);
  expect(pacer.size).toBe(0);
  // A burst that runs past a sweep: its last buckets go one window after it, not a sweep later.
  for (let i = 0; i < 10; i++) {
    await pacer.acquire(`discord:late-${i}`, { points: 5, durationSec: 5 });
    await vi.advanceTimersByTimeAsync(1_000);
  }
  await vi.advanceTimersByTimeAsync(5_500);
  expect(pacer.size).toBe(0);
  // No timer is left behind once nothing is held.
  expect(vi.getTimerCount()).toBe(0);
});

test('a bucket still inside its window, or with requests waiting, is kept and keeps its budget', async () => {
  const pacer = new EditPacer();
  const window = { points: 1, durationSec: 20 };
  await pacer.acquire('busy', window);
  // A second request waits for the window (20 s) to pass.
  let granted = false;
  const waiting = pacer.acquire('busy', window).then(() => {
    granted = true;
  });
  await vi.advanceTimersByTimeAsync(11_000);
  // A sweep runs here: 'busy' has a waiter and a window not yet passed, so it must survive.
  await pacer.acquire('other', ONE_PER_SECOND);
  expect(pacer.size).toBe(2);
  expect(granted).toBe(false);
  await vi.advanceTimersByTimeAsync(10_000);
  await waiting;
  expect(granted).toBe(true);

  // Right after its grant, a new request to 'busy' still waits out the window (not a fresh bucket).
  await vi.advanceTimersByTimeAsync(10_500);
  let third = false;
  const next = pacer.acquire('busy', window).then(() => {
    third = true;
  });
  await vi.advanceTimersByTimeAsync(5_000);
  expect(third).toBe(false);
  await vi.advanceTimersByTimeAsync(20_000);
  await next;
  expect(third).toBe(true);
});

test("a reply's first message goes before edits already waiting; the rest keep their order", async () => {
  const pacer = new EditPacer();
  const granted: string[] = [];
  const ask = (name: string, start = false) =>
    pacer.acquire('channel', ONE_PER_SECOND, { start }).then(() => void granted.push(name));
  await ask('edit of a visible answer');
  const waiting = [ask('edit a'), ask('edit b'), ask('edit c')];
  await vi.advanceTimersByTimeAsync(10);
  // Someone else's answer is ready to show its first words: it is next, ahead of the three edits.
  waiting.push(ask('first message of another answer', true));
  await vi.advanceTimersByTimeAsync(5_000);
  await Promise.all(waiting);
  expect(granted).toEqual([
    'edit of a visible answer',
    'first message of another answer',
    'edit a',
    'edit b',
    'edit c',
  ]);
});

test('a limiter that fails (store down) fails the waiting request, and the next one still gets its turn', async () => {
  let calls = 0;
  const flaky = new RateLimiterMemory({ points: 1, duration: 1 });
  const pacer = new EditPacer(() => {
    const limiter = Object.create(flaky) as RateLimiterMemory;
    limiter.consume = (key, points) =>
      ++calls === 1 ? Promise.reject(new Error('redis down')) : flaky.consume(key, points);
    return limiter;
  });
  await expect(pacer.acquire('channel', ONE_PER_SECOND)).rejects.toThrow('redis down');
  await expect(pacer.acquire('channel', ONE_PER_SECOND)).resolves.toBeUndefined();
});
