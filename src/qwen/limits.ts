import type { Logger } from '../log.ts';
import { type RateLimiterAbstract, RateLimiterRes } from '../util/rate-limiters.ts';
import { QwenError } from './errors.ts';

/** Time as the limiter sees it: injectable so tests move it by hand instead of waiting. */
export interface LimitsClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: LimitsClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The account's budget for one model (DashScope counts per model, for all keys of the account). */
export interface ModelRate {
  rpm: number;
  tpm: number;
}

/** Shared counters (Redis) so several instances add up to one account: `Coordinator.limiter`. */
export type SharedLimiterFactory = (name: string, points: number, durationSec: number) => RateLimiterAbstract;

export interface LimitsObserver {
  queueLength(model: string, waiting: number): void;
  waited(model: string, seconds: number): void;
}

export interface ModelLimitsOptions {
  rate: (model: string) => ModelRate;
  /** Calls that may wait at once (all models); beyond it `acquire` throws `queue_full`. */
  maxQueue: number;
  /** A waiting call is told its place (`onQueued`) once it has waited this long. */
  showAfterMs: number;
  clock?: LimitsClock;
  shared?: SharedLimiterFactory;
  observer?: LimitsObserver;
  log?: Logger;
}

export interface AcquireOptions {
  /** Estimated tokens (input plus expected output), corrected by `Grant.settle`. */
  tokens: number;
  signal?: AbortSignal;
  /** How many calls are ahead (after `showAfterMs`, then at every move); null once it may go. */
  onQueued?: (ahead: number | null) => void;
}

export interface Grant {
  /** Replaces the estimate by what DashScope counted (`usage.total_tokens`). */
  settle(actualTokens: number): void;
}

interface Waiter {
  tokens: number;
  enqueuedAt: number;
  resolve: (grant: Grant) => void;
  reject: (err: unknown) => void;
  onQueued?: (ahead: number | null) => void;
  shownAhead: number | null;
  visible: boolean;
}

interface Lane {
  model: string;
  queue: Waiter[];
  /** Earliest time of the next request: requests are spaced 60/rpm seconds apart (DashScope's RPS). */
  nextAt: number;
  /** Tokens granted in the last minute, oldest first (`gone` once out of the window). */
  spent: Array<{ at: number; tokens: number; gone?: boolean }>;
  /** Their sum, kept as they come and go (summing them on every call cost ~2 % of a busy bot's CPU). */
  spentTokens: number;
  pausedUntil: number;
  pumping: boolean;
  /** Ends the pump's current wait early (tokens given back, a caller gone): it looks again. */
  wake: () => void;
  shared?: { requests: RateLimiterAbstract; tokens: RateLimiterAbstract };
}

const MINUTE_MS = 60_000;
/** A call that was about to go when its line was due looks again this much later. */
const REVEAL_RECHECK_MS = 250;

/**
 * Takes capacity for a model call before it is made, so a burst of questions is spread over the
 * account's rate instead of turning into 429s. Calls wait in arrival order per model; each is granted
 * when the per-second spacing, the minute's token budget and any Retry-After pause allow, and (with
 * Redis) when the shared counters of all instances have room.
 */
export class ModelLimits {
  private readonly opts: ModelLimitsOptions;
  private readonly clock: LimitsClock;
  private readonly lanes = new Map<string, Lane>();
  private waitingCount = 0;
  /** Calls granted so far (tests and the bench compare it with what the simulator received). */
  granted = 0;

  constructor(opts: ModelLimitsOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
  }

  get waiting(): number {
    return this.waitingCount;
  }

  /** Resolves when this call may be sent; throws `queue_full` when too many wait already. */
  acquire(model: string, options: AcquireOptions): Promise<Grant> {
    const lane = this.lane(model);
    if (this.waitingCount >= this.opts.maxQueue) {
      return Promise.reject(
        new QwenError('queue_full', `${this.waitingCount} model calls are waiting already`, { model }),
      );
    }
    if (options.signal?.aborted)
      return Promise.reject(new QwenError('aborted', 'request aborted', { model }));
    const tokens = Math.min(Math.max(1, Math.ceil(options.tokens)), this.opts.rate(model).tpm);
    return new Promise<Grant>((resolve, reject) => {
      const waiter: Waiter = {
        tokens,
        enqueuedAt: this.clock.now(),
        resolve,
        reject,
        onQueued: options.onQueued,
        shownAhead: null,
        visible: false,
      };
      lane.queue.push(waiter);
      this.changed(lane, 1);
      const onAbort = () => {
        const at = lane.queue.indexOf(waiter);
        if (at < 0) return;
        lane.queue.splice(at, 1);
        this.changed(lane, -1);
        lane.wake();
        reject(new QwenError('aborted', 'request aborted', { model }));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      waiter.resolve = (grant) => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve(grant);
      };
      if (waiter.onQueued) this.revealLater(lane, waiter, this.opts.showAfterMs);
      void this.pump(lane);
    });
  }

  /** DashScope said to wait (Retry-After): no call to this model goes out before then, on any instance. */
  pause(model: string, ms: number): void {
    const lane = this.lane(model);
    lane.pausedUntil = Math.max(lane.pausedUntil, this.clock.now() + ms);
    lane.shared?.requests.block(model, Math.max(1, Math.ceil(ms / 1000))).catch((err: unknown) => {
      this.opts.log?.warn({ err, model }, 'could not share a Retry-After pause');
    });
  }

  /** After `ms`, a call still waiting is told its place (and from then on whenever it moves). */
  private revealLater(lane: Lane, waiter: Waiter, ms: number): void {
    void this.clock.sleep(ms).then(() => {
      if (!lane.queue.includes(waiter)) return;
      // First in line and free to go this instant: showing the line would only take an edit to take back.
      if (lane.queue[0] === waiter && this.localWait(lane, waiter.tokens) <= 0)
        return this.revealLater(lane, waiter, REVEAL_RECHECK_MS);
      waiter.visible = true;
      this.tell(lane);
    });
  }

  private lane(model: string): Lane {
    let lane = this.lanes.get(model);
    if (!lane) {
      const rate = this.opts.rate(model);
      lane = {
        model,
        queue: [],
        nextAt: 0,
        spent: [],
        spentTokens: 0,
        pausedUntil: 0,
        pumping: false,
        wake: () => undefined,
      };
      if (this.opts.shared) {
        lane.shared = {
          requests: this.opts.shared(`qwen-rpm:${model}`, rate.rpm, 60),
          tokens: this.opts.shared(`qwen-tpm:${model}`, rate.tpm, 60),
        };
      }
      this.lanes.set(model, lane);
    }
    return lane;
  }

  private changed(lane: Lane, delta: number): void {
    this.waitingCount += delta;
    this.opts.observer?.queueLength(lane.model, lane.queue.length);
    this.tell(lane);
  }

  /** Tells every visible waiter its place when it changed. */
  private tell(lane: Lane): void {
    lane.queue.forEach((w, ahead) => {
      if (!w.visible || w.shownAhead === ahead) return;
      w.shownAhead = ahead;
      w.onQueued?.(ahead);
    });
  }

  private async pump(lane: Lane): Promise<void> {
    if (lane.pumping) return;
    lane.pumping = true;
    try {
      for (let head = lane.queue[0]; head; head = lane.queue[0]) {
        const wait = this.localWait(lane, head.tokens) || (await this.takeShared(lane, head.tokens));
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            lane.wake = resolve;
            void this.clock.sleep(wait).then(resolve);
          });
          lane.wake = () => undefined;
          continue;
        }
        if (lane.queue[0] !== head) {
          // The caller left while the shared counters were asked: give its share back.
          lane.shared?.requests.reward(lane.model, 1).catch(() => undefined);
          lane.shared?.tokens.reward(lane.model, head.tokens).catch(() => undefined);
          continue;
        }
        this.grant(lane, head);
      }
    } finally {
      lane.pumping = false;
    }
  }

  /** How long until this process may send the next call of this model (0: now). */
  private localWait(lane: Lane, tokens: number): number {
    const now = this.clock.now();
    while (lane.spent.length && (lane.spent[0]?.at ?? 0) <= now - MINUTE_MS) {
      const old = lane.spent.shift() as { tokens: number; gone?: boolean };
      old.gone = true;
      lane.spentTokens -= old.tokens;
    }
    // Spacing under a millisecond (above 60,000 RPM) is no spacing: timers cannot wait less.
    let wait = Math.max(lane.nextAt - now >= 1 ? lane.nextAt - now : 0, lane.pausedUntil - now, 0);
    const { tpm } = this.opts.rate(lane.model);
    let used = lane.spentTokens;
    for (const s of lane.spent) {
      if (used + tokens <= tpm) break;
      used -= s.tokens;
      wait = Math.max(wait, s.at + MINUTE_MS - now);
    }
    return wait;
  }

  /** Takes a request and the tokens from the shared counters; the wait when either is spent (0: taken). */
  private async takeShared(lane: Lane, tokens: number): Promise<number> {
    if (!lane.shared) return 0;
    const { requests, tokens: tokenCounter } = lane.shared;
    try {
      await requests.consume(lane.model, 1);
    } catch (res) {
      if (res instanceof RateLimiterRes) return Math.max(1, res.msBeforeNext);
      throw res;
    }
    try {
      await tokenCounter.consume(lane.model, tokens);
      return 0;
    } catch (res) {
      await requests.reward(lane.model, 1).catch(() => undefined);
      if (res instanceof RateLimiterRes) return Math.max(1, res.msBeforeNext);
      throw res;
    }
  }

  private grant(lane: Lane, waiter: Waiter): void {
    const now = this.clock.now();
    lane.queue.shift();
    this.granted++;
    lane.nextAt = now + MINUTE_MS / this.opts.rate(lane.model).rpm;
    const entry: { at: number; tokens: number; gone?: boolean } = { at: now, tokens: waiter.tokens };
    lane.spent.push(entry);
    lane.spentTokens += entry.tokens;
    this.opts.observer?.waited(lane.model, (now - waiter.enqueuedAt) / 1000);
    if (waiter.visible) waiter.onQueued?.(null);
    this.changed(lane, -1);
    const shared = lane.shared;
    waiter.resolve({
      settle: (actual) => {
        const delta = Math.ceil(actual) - entry.tokens;
        if (!Number.isFinite(delta) || delta === 0) return;
        entry.tokens += delta;
        if (!entry.gone) lane.spentTokens += delta;
        if (delta < 0) lane.wake();
        if (!shared) return;
        const fix =
          delta > 0 ? shared.tokens.penalty(lane.model, delta) : shared.tokens.reward(lane.model, -delta);
        fix.catch(() => undefined);
      },
    });
  }
}
