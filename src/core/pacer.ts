import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';

/** A platform budget: at most `points` requests per `durationSec`, shared by every answer using it. */
export interface BucketSpec {
  points: number;
  durationSec: number;
}

export type LimiterFactory = (key: string, spec: BucketSpec) => RateLimiterAbstract;

const memoryLimiter: LimiterFactory = (_key, spec) =>
  new RateLimiterMemory({ points: spec.points, duration: spec.durationSec });

/**
 * Hands out edit/post turns per platform bucket in FIFO order, so fifty simultaneous answers in one
 * channel or workspace share the platform's rate instead of multiplying it. The limiter is pluggable:
 * in-process by default, Redis-backed when several instances share a platform budget.
 */
export class EditPacer {
  private readonly queues = new Map<string, RateLimiterQueue>();
  private readonly factory: LimiterFactory;

  constructor(factory: LimiterFactory = memoryLimiter) {
    this.factory = factory;
  }

  /** Resolves when this bucket may make one more request. */
  async acquire(bucket: string, spec: BucketSpec | undefined): Promise<void> {
    if (!spec) return;
    let queue = this.queues.get(bucket);
    if (!queue) {
      queue = new RateLimiterQueue(this.factory(bucket, spec), { maxQueueSize: 100_000 });
      this.queues.set(bucket, queue);
    }
    await queue.removeTokens(1, bucket);
  }
}
