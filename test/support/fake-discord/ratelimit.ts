/**
 * Per-route rate-limit buckets as Discord advertises them: a bucket per method, route and major
 * parameter (the channel), X-RateLimit-* headers on every answer, 429 with retry_after once spent.
 * Tests can also force 429s on a route.
 */
import { createHash } from 'node:crypto';

export interface RateLimitOptions {
  /** Requests per bucket per window (Discord: 5 per 5 s for channel messages). */
  limit: number;
  windowMs: number;
}

/** A forced 429 for the next `times` requests matching method and route template. */
export interface ForcedLimit {
  method: string;
  route: string;
  times: number;
  retryAfterSec: number;
}

/** A forced server error (5xx) for the next `times` requests matching method and route template. */
export interface ForcedFailure {
  method: string;
  route: string;
  times: number;
  status: number;
}

export class FakeRateLimiter {
  options: RateLimitOptions = { limit: 5, windowMs: 5000 };
  readonly forced: ForcedLimit[] = [];
  readonly failures: ForcedFailure[] = [];
  /** 5xx answered because a test forced them. */
  serverErrors = 0;

  /** The status of a forced server error for this request, if one is due (counted down). */
  failure(method: string, template: string): number | undefined {
    const f = this.failures.find((x) => x.method === method && x.route === template && x.times > 0);
    if (!f) return undefined;
    f.times--;
    this.serverErrors++;
    return f.status;
  }
  /** 429s answered (forced or earned). */
  rateLimited = 0;
  private readonly buckets = new Map<string, { count: number; resetAt: number }>();

  /** Per-route bucket keyed by method, route and major parameter; forced limits first. */
  take(method: string, template: string, major: string) {
    const now = Date.now();
    const forced = this.forced.find((f) => f.method === method && f.route === template && f.times > 0);
    const key = `${method} ${template} ${major}`;
    // One opaque id per route, as Discord sends: a prefix of the route's hex would give every POST on
    // /channels/… one id, and discord.js would queue typing and message sends behind each other.
    const hash = createHash('sha1').update(`${method} ${template}`).digest('hex').slice(0, 16);
    let b = this.buckets.get(key);
    if (!b || b.resetAt <= now) {
      b = { count: 0, resetAt: now + this.options.windowMs };
      this.buckets.set(key, b);
    }
    const values: Record<string, string> = {
      'x-ratelimit-limit': String(this.options.limit),
      'x-ratelimit-bucket': hash,
      'x-ratelimit-reset': (b.resetAt / 1000).toFixed(3),
    };
    if (forced) {
      forced.times--;
      this.rateLimited++;
      return {
        limited: true,
        retryAfter: forced.retryAfterSec,
        values: {
          ...values,
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': forced.retryAfterSec.toFixed(3),
          'retry-after': String(forced.retryAfterSec),
          'x-ratelimit-scope': 'user',
        },
      };
    }
    const resetAfter = Math.max(0, (b.resetAt - now) / 1000);
    if (b.count >= this.options.limit) {
      this.rateLimited++;
      return {
        limited: true,
        retryAfter: resetAfter,
        values: {
          ...values,
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': resetAfter.toFixed(3),
          'retry-after': String(Math.ceil(resetAfter)),
          'x-ratelimit-scope': 'user',
        },
      };
    }
    b.count++;
    return {
      limited: false,
      retryAfter: 0,
      values: {
        ...values,
        'x-ratelimit-remaining': String(this.options.limit - b.count),
        'x-ratelimit-reset-after': resetAfter.toFixed(3),
      },
    };
  }
}
