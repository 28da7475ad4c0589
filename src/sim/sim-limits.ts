import type { SimError } from './sim-types.ts';

/** A model's account limits as the simulator enforces them. */
export interface SimModelLimit {
  rpm?: number;
  tpm?: number;
}

export interface SimRateOptions {
  limits: Record<string, SimModelLimit>;
  /** Send `Retry-After` (seconds) with a refusal (default true). */
  retryAfter?: boolean;
  now?: () => number;
}

/** What the simulator refused, by kind: per-minute requests, per-second requests, tokens per minute. */
export interface SimRefusals {
  rpm: number;
  rps: number;
  tpm: number;
}

const MINUTE_MS = 60_000;
const SECOND_MS = 1000;

/**
 * DashScope's per-model account limits: RPM over the last minute, RPS = RPM/60 over the last second
 * (a burst inside a minute is refused below the per-minute figure), and TPM over the last minute. A
 * refusal is a 429 with DashScope's codes and messages and, unless switched off, a Retry-After saying
 * when the oldest counted request leaves the window.
 */
export class SimRateLimits {
  readonly refusals: SimRefusals = { rpm: 0, rps: 0, tpm: 0 };
  private readonly opts: SimRateOptions;
  private readonly now: () => number;
  private readonly seen = new Map<string, Array<{ at: number; tokens: number }>>();

  constructor(opts: SimRateOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** Counts the request when it is within the model's limits; otherwise the 429 to answer with. */
  take(model: string, tokens: number): SimError | undefined {
    const limit = this.opts.limits[model];
    if (!limit) return undefined;
    const now = this.now();
    const log = (this.seen.get(model) ?? []).filter((r) => r.at > now - MINUTE_MS);
    this.seen.set(model, log);
    if (limit.rpm !== undefined) {
      if (log.length >= limit.rpm) {
        this.refusals.rpm++;
        return this.refuse(
          'limit_requests',
          'Requests rate limit exceeded, please try again later.',
          log[0]?.at,
          MINUTE_MS,
        );
      }
      const perSecond = Math.max(1, Math.floor(limit.rpm / 60));
      const lastSecond = log.filter((r) => r.at > now - SECOND_MS);
      if (lastSecond.length >= perSecond) {
        this.refusals.rps++;
        return this.refuse(
          'limit_burst_rate',
          'Request rate increased too quickly. To ensure system stability, please adjust your client logic to scale requests more smoothly over time.',
          lastSecond[0]?.at,
          SECOND_MS,
        );
      }
    }
    if (limit.tpm !== undefined) {
      let used = log.reduce((n, r) => n + r.tokens, 0);
      if (used + tokens > limit.tpm) {
        this.refusals.tpm++;
        // The request is accepted once enough of the minute's tokens have left the window.
        let freeAt = log[0]?.at;
        for (const r of log) {
          freeAt = r.at;
          used -= r.tokens;
          if (used + tokens <= limit.tpm) break;
        }
        return this.refuse(
          'limit_requests',
          'Allocated quota exceeded, please increase your quota limit.',
          freeAt,
          MINUTE_MS,
        );
      }
    }
    log.push({ at: now, tokens });
    return undefined;
  }

  private refuse(code: string, message: string, oldest: number | undefined, windowMs: number): SimError {
    const waitMs = Math.max(0, (oldest ?? this.now()) + windowMs - this.now());
    const headers =
      this.opts.retryAfter === false
        ? undefined
        : { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) };
    return { status: 429, code, message, type: 'limit_requests', ...(headers ? { headers } : {}) };
  }
}
