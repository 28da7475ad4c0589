import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';

/** A platform budget: at most `points` requests per `durationSec`, shared by every answer using it. */
export interface BucketSpec {
  points: number;
  durationSec: number;
}

export type LimiterFactory = (key: string, spec: BucketSpec) => RateLimiterAbstract;

const memoryLimiter: LimiterFactory = (_key, spec) =>
  new RateLimiterMemory({ points: spec.points, duration: spec.durationSec });

interface Bucket {
  queue: RateLimiterQueue;
  windowMs: number;
  /** Acquires waiting or in progress. */
  pending: number;
  /** When the last acquire was granted. */
  lastAt: number;
}

/** Idle buckets are looked for at most this often (each look walks every bucket). */
const SWEEP_EVERY_MS = 10_000;

export interface EditPacerOptions {
  now?: () => number;
}

/**
 * Hands out edit/post turns per platform bucket in FIFO order, so fifty simultaneous answers in one
 * channel or workspace share the platform's rate instead of multiplying it. The limiter is pluggable:
 * in-process by default, Redis-backed when several instances share a platform budget.
 *
 * One bucket per channel would otherwise stay in memory forever. A bucket with nobody waiting whose
 * window has fully passed since its last request is forgotten: a fresh limiter grants exactly what
 * the old one would have, so the platform budget is kept.
 */
export class EditPacer {
  private readonly buckets = new Map<string, Bucket>();
  private readonly factory: LimiterFactory;
  private readonly now: () => number;
  private lastSweep: number;

  constructor(factory: LimiterFactory = memoryLimiter, options: EditPacerOptions = {}) {
    this.factory = factory;
    this.now = options.now ?? Date.now;
    this.lastSweep = this.now();
  }

  /** Buckets held in memory. */
  get size(): number {
    return this.buckets.size;
  }

  /** Resolves when this bucket may make one more request. */
  async acquire(bucket: string, spec: BucketSpec | undefined): Promise<void> {
    if (!spec) return;
    this.sweep();
    let b = this.buckets.get(bucket);
    if (!b) {
      b = {
        queue: new RateLimiterQueue(this.factory(bucket, spec), { maxQueueSize: 100_000 }),
        windowMs: spec.durationSec * 1000,
        pending: 0,
        lastAt: 0,
      };
      this.buckets.set(bucket, b);
    }
    b.pending++;
    try {
      await b.queue.removeTokens(1, bucket);
      b.lastAt = this.now();
    } finally {
      b.pending--;
    }
  }

  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, b] of this.buckets) {
      if (b.pending === 0 && now - b.lastAt > b.windowMs) this.buckets.delete(key);
    }
  }
}
