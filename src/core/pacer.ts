import { type RateLimiterAbstract, RateLimiterMemory } from '../util/rate-limiters.ts';

/** A platform budget: at most `points` requests per `durationSec`, shared by every answer using it. */
export interface BucketSpec {
  points: number;
  durationSec: number;
}

export type LimiterFactory = (key: string, spec: BucketSpec) => RateLimiterAbstract;

const memoryLimiter: LimiterFactory = (_key, spec) =>
  new RateLimiterMemory({ points: spec.points, duration: spec.durationSec });

interface Waiter {
  grant: () => void;
  fail: (err: unknown) => void;
}

interface Bucket {
  limiter: RateLimiterAbstract;
  windowMs: number;
  /** The first message of an answer: someone is waiting to see their reply start. Served first. */
  starts: Waiter[];
  /** Everything else, first come first served. */
  others: Waiter[];
  /** A loop is handing out this bucket's budget. */
  pumping: boolean;
  /** When the last acquire was granted. */
  lastAt: number;
}

/** What a request is for, as far as fairness goes. */
export interface AcquireOptions {
  /** The first message of an answer (its asker sees nothing of it yet). */
  start?: boolean;
}

/** A window reopens at most this much later than the limiter says (5 % of the window below that). */
const WINDOW_SLACK_MAX_MS = 250;

/** Idle buckets are looked for this often while any is held (each look walks every bucket). */
const SWEEP_EVERY_MS = 10_000;
/** The soonest a next look comes (a window just about to pass is not chased by the millisecond). */
const SWEEP_MIN_MS = 100;

export interface EditPacerOptions {
  now?: () => number;
}

/**
 * Hands out edit/post turns per platform bucket, so fifty simultaneous answers in one channel or
 * workspace share the platform's rate instead of multiplying it. The limiter is pluggable: in-process
 * by default, Redis-backed when several instances share a platform budget (every grant consumes a point
 * there, so the budget holds across instances).
 *
 * Fair across answers: the first message of an answer goes before any further request, so in a busy
 * channel every asker sees their reply start within the post budget instead of behind the edits of
 * answers already visible. The rest is first come first served; an answer waits for one request at a
 * time (the streamer coalesces what changed meanwhile into its next edit), so this is round-robin
 * across the answers streaming.
 *
 * One bucket per channel would otherwise stay in memory forever. A bucket with nobody waiting whose
 * window has fully passed since its last request is forgotten: a fresh limiter grants exactly what
 * the old one would have, so the platform budget is kept. The look runs on a timer (unref'd, only
 * while buckets are held), so a bot that goes quiet lets go of them too: looking only when the next
 * request came kept every channel of a burst (~0.5 KB each, ~1 KB with a Redis limiter) until then.
 */
export class EditPacer {
  private readonly buckets = new Map<string, Bucket>();
  private readonly factory: LimiterFactory;
  private readonly now: () => number;
  private sweepTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(factory: LimiterFactory = memoryLimiter, options: EditPacerOptions = {}) {
    this.factory = factory;
    this.now = options.now ?? Date.now;
  }

  /** Buckets held in memory. */
  get size(): number {
    return this.buckets.size;
  }

  /** Resolves when this bucket may make one more request; rejects when the limiter itself fails. */
  acquire(bucket: string, spec: BucketSpec | undefined, options: AcquireOptions = {}): Promise<void> {
    if (!spec) return Promise.resolve();
    let b = this.buckets.get(bucket);
    if (!b) {
      b = {
        limiter: this.factory(bucket, spec),
        windowMs: spec.durationSec * 1000,
        starts: [],
        others: [],
        pumping: false,
        lastAt: 0,
      };
      this.buckets.set(bucket, b);
      this.sweepLater();
    }
    const waiting = b;
    return new Promise<void>((grant, fail) => {
      (options.start ? waiting.starts : waiting.others).push({ grant, fail });
      void this.pump(bucket, waiting);
    });
  }

  /** Grants the bucket's budget, one point at a time, to whoever is first in line when a point is free. */
  private async pump(key: string, b: Bucket): Promise<void> {
    if (b.pumping) return;
    b.pumping = true;
    try {
      while (b.starts.length + b.others.length > 0) {
        let failure: unknown;
        try {
          await b.limiter.consume(key, 1);
        } catch (res) {
          if (!(res instanceof Error)) {
            // Out of points: the limiter says when the next one frees up. The platform's window starts
            // when its first request arrives, a little after ours was granted; starting ours a little
            // late keeps a fully used budget from reaching the platform a few ms before its reset.
            const wait = (res as { msBeforeNext?: number }).msBeforeNext ?? 0;
            const slack = Math.min(WINDOW_SLACK_MAX_MS, b.windowMs * 0.05);
            await new Promise((resolve) => setTimeout(resolve, Math.max(1, wait + slack)));
            continue;
          }
          failure = res;
        }
        // Chosen only now: a reply start that queued while we waited still goes first.
        const next = (b.starts.shift() ?? b.others.shift()) as Waiter;
        b.lastAt = this.now();
        if (failure === undefined) next.grant();
        else next.fail(failure);
      }
    } finally {
      b.pumping = false;
    }
  }

  /**
   * One timer for every bucket, while there are any: every SWEEP_EVERY_MS, or sooner when the buckets
   * left will all have expired by then (the last of a burst go one window after it, not a sweep later).
   */
  private sweepLater(delayMs = SWEEP_EVERY_MS): void {
    if (this.sweepTimer !== undefined) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      const latest = this.sweep();
      if (this.buckets.size > 0)
        this.sweepLater(Math.min(SWEEP_EVERY_MS, Math.max(SWEEP_MIN_MS, latest - this.now() + 1)));
    }, delayMs);
    this.sweepTimer.unref?.();
  }

  /** Forgets the expired buckets; returns when the last one kept expires at the earliest. */
  private sweep(): number {
    const now = this.now();
    let latest = now;
    for (const [key, b] of this.buckets) {
      const expires = b.pumping ? now + b.windowMs : b.lastAt + b.windowMs;
      if (expires < now) this.buckets.delete(key);
      else latest = Math.max(latest, expires);
    }
    return latest;
  }
}
