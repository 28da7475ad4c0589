/**
 * Fake time for end-to-end tests. The bot, the fake platforms and the DashScope simulator run in this
 * process and talk over real sockets on 127.0.0.1 (Redis in another process), so fake time cannot
 * simply jump to the next timer: a request in flight would see its timeout fire first. Instead, while a
 * test waits for something (`settle`), fake time moves on in steps of `STEP_MS` per real millisecond:
 * about ten times as fast as real time. A 1 s edit floor then costs a tenth of a real second, and a
 * request that takes 50 real ms under load looks like 500 ms to the bot, well inside its timeouts.
 * (Stepping as fast as the event loop turns ran fake time ~300 times as fast as real time: a 5 s
 * first-token timeout fired while a request was still on its way.)
 */
import { vi } from 'vitest';

/**
 * Timers and Date are faked; setImmediate, process.nextTick, queueMicrotask and performance stay real:
 * sockets, undici and the step loop below need them.
 */
export const FAKED = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] as const;

/** Fake milliseconds per step; one step per real millisecond (at least). */
const STEP_MS = 10;
const REAL_MS_PER_STEP = 1;
/** Default deadline of a wait, in fake time (real time when timers are real). */
const DEFAULT_DEADLINE_MS = 30_000;

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** Rigs holding the fake clock: two rigs at once (a restart) share one clock. */
let holders = 0;

/**
 * True while vitest's fake timers are on. Outside vitest (the benchmarks use the harnesses too) there
 * are none, and asking vitest would throw.
 */
function faking(): boolean {
  return process.env.VITEST !== undefined && vi.isFakeTimers();
}

/** Fakes timers and Date, unless a rig already did (installing again would drop its pending timers). */
export function useFakeClock(): void {
  if (holders++ === 0 && !faking()) vi.useFakeTimers({ toFake: [...FAKED] });
}

/**
 * Gives back what `useFakeClock` took; the last one restores real timers. Timers still pending on the
 * fake clock never fire after that: call it once nothing waits on one (after closing the rig).
 */
export function useRealClock(): void {
  if (holders > 0) holders--;
  if (holders === 0 && process.env.VITEST !== undefined) vi.useRealTimers();
}

/** What a wait is for; a function when the message should say how far it got. */
export type What = string | (() => string);

interface Waiter {
  what: What;
  deadlineAt: number;
  deadlineMs: number;
  fail(err: Error): void;
}

const waiters = new Set<Waiter>();
let driving = false;

function timedOut(what: What, ms: number, clock: string): Error {
  const text = typeof what === 'string' ? what : what();
  return new Error(`timed out after ${ms} ms (${clock} time) waiting for ${text}`);
}

/** One loop for every wait in progress: several waits at once must not multiply the pace of time. */
async function drive(): Promise<void> {
  if (driving) return;
  driving = true;
  try {
    while (waiters.size > 0 && faking()) {
      await new Promise((resolve) => realSetTimeout(resolve, REAL_MS_PER_STEP));
      // The last rig may have closed and restored real timers meanwhile.
      if (!faking()) break;
      await vi.advanceTimersByTimeAsync(STEP_MS);
      const now = Date.now();
      for (const w of waiters) {
        if (now <= w.deadlineAt) continue;
        waiters.delete(w);
        w.fail(timedOut(w.what, w.deadlineMs, 'fake'));
      }
    }
  } finally {
    driving = false;
  }
}

/**
 * Resolves or rejects as `promise` does. Under fake timers fake time moves on while it is pending; after
 * `deadlineMs` of fake time it rejects with an error naming `what`. Under real timers the deadline is
 * real time. Every wait in an end-to-end test goes through here, so no wait can hang the test.
 */
export function settle<T>(promise: Promise<T>, what: What, deadlineMs = DEFAULT_DEADLINE_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (!faking()) {
      const timer = realSetTimeout(() => reject(timedOut(what, deadlineMs, 'real')), deadlineMs);
      promise.then(resolve, reject).finally(() => realClearTimeout(timer));
      return;
    }
    const waiter: Waiter = { what, deadlineMs, deadlineAt: Date.now() + deadlineMs, fail: reject };
    waiters.add(waiter);
    promise
      .then(resolve, reject)
      .finally(() => waiters.delete(waiter))
      .catch(() => undefined);
    void drive();
  });
}

/**
 * Resolves with the first truthy value of `check`, polling every `everyMs`; rejects after `timeoutMs`
 * (fake time under fake timers, which advance meanwhile). For conditions nothing announces.
 */
export function until<T>(
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  what: What,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<T> {
  let gaveUp = false;
  const poll = async (): Promise<T> => {
    for (;;) {
      const v = await check();
      if (v) return v;
      if (gaveUp) throw new Error('given up');
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  };
  const waiting = settle(poll(), what, timeoutMs);
  waiting.catch(() => {
    gaveUp = true;
  });
  return waiting;
}

/**
 * Resolves or rejects as `promise` does, while the fake clock stands still: for "at once", i.e. without
 * waiting for any timer. Rejects after `realDeadlineMs` of real time.
 */
export function withClockStopped<T>(promise: Promise<T>, what: What, realDeadlineMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = realSetTimeout(
      () => reject(timedOut(what, realDeadlineMs, 'real time, fake clock stopped')),
      realDeadlineMs,
    );
    promise.then(resolve, reject).finally(() => realClearTimeout(timer));
  });
}
