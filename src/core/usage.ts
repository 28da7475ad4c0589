import type { Config } from '../config/schema.ts';
import { t } from '../i18n.ts';
import type { Usage } from '../qwen/client.ts';
import type { Coordinator } from '../store/coordination.ts';
import type { Guard } from './guards.ts';
import type { ConversationRef } from './types.ts';
import { conversationKey } from './types.ts';

export interface UsageTotals {
  answers: number;
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  /** Prompt tokens served from DashScope's context cache (included in promptTokens). */
  cachedTokens: number;
  /** Prompt tokens written to the explicit cache (included in promptTokens). */
  cacheCreationTokens: number;
  /** Estimated cost in the catalogue's currency (CNY). */
  cost: number;
  /** What the context cache saved against paying the full input price for every prompt token (CNY). */
  cacheSaving: number;
}

export const emptyTotals = (): UsageTotals => ({
  answers: 0,
  promptTokens: 0,
  completionTokens: 0,
  reasoningTokens: 0,
  cachedTokens: 0,
  cacheCreationTokens: 0,
  cost: 0,
  cacheSaving: 0,
});

export type UsageScope =
  | { kind: 'conversation'; key: string }
  | { kind: 'user'; platform: string; id: string }
  | { kind: 'workspace'; platform: string; id: string };

const DAY_MS = 86_400_000;
/** Daily buckets are kept this long; the all-time bucket for `totalsRetentionMs` after its last answer. */
const DAILY_RETENTION_MS = 40 * DAY_MS;
const DEFAULT_TOTALS_RETENTION_MS = 400 * DAY_MS;

export function scopeId(scope: UsageScope): string {
  if (scope.kind === 'conversation') return `conv:${scope.key}`;
  return `${scope.kind}:${scope.platform}:${scope.id}`;
}

export function scopesFor(ref: ConversationRef, userId: string): UsageScope[] {
  return [
    { kind: 'conversation', key: conversationKey(ref) },
    { kind: 'user', platform: ref.platform, id: userId },
    { kind: 'workspace', platform: ref.platform, id: ref.workspace },
  ];
}

/**
 * DashScope bills implicit context-cache hits at 20 % of the input price (platform-facts.md); a model's
 * `priceCached` in the catalogue overrides it.
 */
export const CACHED_PRICE_FRACTION = 0.2;
/** Explicit cache (Model Studio "Context cache"): a hit costs 10 % of the input price, a write 125 %. */
export const EXPLICIT_HIT_PRICE_FRACTION = 0.1;
export const EXPLICIT_WRITE_PRICE_FRACTION = 1.25;

type Prices = { priceIn: number; priceOut: number; priceCached?: number };

/** The prompt's price in CNY × 1e6: plain tokens, implicit and explicit hits, explicit writes. */
function inputPrice(usage: Usage, price: Prices): number {
  const cached = Math.min(usage.cachedTokens ?? 0, usage.promptTokens);
  const explicit = Math.min(usage.explicitCachedTokens ?? 0, cached);
  const written = Math.min(usage.cacheCreationTokens ?? 0, usage.promptTokens - cached);
  const plain = usage.promptTokens - cached - written;
  const implicitPrice = price.priceCached ?? price.priceIn * CACHED_PRICE_FRACTION;
  return (
    plain * price.priceIn +
    (cached - explicit) * implicitPrice +
    explicit * price.priceIn * EXPLICIT_HIT_PRICE_FRACTION +
    written * price.priceIn * EXPLICIT_WRITE_PRICE_FRACTION
  );
}

export function costOf(usage: Usage, price: Prices | undefined): number {
  if (!price) return 0;
  return (inputPrice(usage, price) + usage.completionTokens * price.priceOut) / 1_000_000;
}

/**
 * What the context cache saved on this usage: the prompt at the full input price minus what it cost.
 * Negative when an explicit write (125 %) has not been read back yet.
 */
export function cacheSavingOf(usage: Usage, price: Prices | undefined): number {
  if (!price) return 0;
  return (usage.promptTokens * price.priceIn - inputPrice(usage, price)) / 1_000_000;
}

/**
 * Token usage and cost per conversation, user and workspace, in daily buckets plus an all-time total,
 * under `usage:v1:<scope>:<YYYY-MM-DD|all>`. Counters only add up, atomically where the store is shared.
 */
export class UsageStore {
  private readonly counters: Coordinator;
  private readonly now: () => number;
  private readonly totalsRetentionMs: number;

  constructor(
    counters: Coordinator,
    now: () => number = Date.now,
    totalsRetentionMs = DEFAULT_TOTALS_RETENTION_MS,
  ) {
    this.counters = counters;
    this.now = now;
    this.totalsRetentionMs = totalsRetentionMs;
  }

  static key(scope: UsageScope, day: string): string {
    return `usage:v1:${scopeId(scope)}:${day}`;
  }

  day(offsetDays = 0): string {
    return new Date(this.now() - offsetDays * DAY_MS).toISOString().slice(0, 10);
  }

  async record(scopes: UsageScope[], usage: Usage, cost: number, cacheSaving = 0): Promise<void> {
    const today = this.day();
    const deltas = {
      answers: 1,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      reasoningTokens: usage.reasoningTokens,
      cachedTokens: usage.cachedTokens ?? 0,
      cacheCreationTokens: usage.cacheCreationTokens ?? 0,
      cost,
      cacheSaving,
    };
    // Every bucket in one round trip (one MULTI on Redis).
    await this.counters.addMany(
      scopes.flatMap((scope) => [
        { key: UsageStore.key(scope, today), deltas, ttlMs: DAILY_RETENTION_MS },
        // Each answer restarts the all-time total's lifetime: it goes only after a long silence.
        { key: UsageStore.key(scope, 'all'), deltas, ttlMs: this.totalsRetentionMs },
      ]),
    );
  }

  private async get(key: string): Promise<UsageTotals> {
    return { ...emptyTotals(), ...((await this.counters.read(key)) ?? {}) };
  }

  /** Totals for today, the last 7 days (today included) and all time. */
  async totals(scope: UsageScope): Promise<{ today: UsageTotals; week: UsageTotals; all: UsageTotals }> {
    const days = Array.from({ length: 7 }, (_, i) => UsageStore.key(scope, this.day(i)));
    const [all, ...daily] = await Promise.all([
      this.get(UsageStore.key(scope, 'all')),
      ...days.map((k) => this.get(k)),
    ]);
    const week = daily.reduce<UsageTotals>((acc, d) => sum(acc, d), emptyTotals());
    return { today: daily[0] ?? emptyTotals(), week, all: all ?? emptyTotals() };
  }

  /** Deletes every bucket of a scope that can still exist (privacy). */
  async forget(scope: UsageScope): Promise<void> {
    const days = Math.ceil(DAILY_RETENTION_MS / DAY_MS) + 1;
    const keys = [
      UsageStore.key(scope, 'all'),
      ...Array.from({ length: days }, (_, i) => UsageStore.key(scope, this.day(i))),
    ];
    await this.counters.remove(keys);
  }

  async todayTokens(scope: UsageScope): Promise<number> {
    const today = await this.get(UsageStore.key(scope, this.day()));
    return today.promptTokens + today.completionTokens;
  }
}

function sum(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    answers: a.answers + b.answers,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
    cacheCreationTokens: a.cacheCreationTokens + b.cacheCreationTokens,
    cost: a.cost + b.cost,
    cacheSaving: a.cacheSaving + b.cacheSaving,
  };
}

/** Refuses a user's message once their tokens today reach the configured daily quota (0: no quota). */
export function dailyQuota(usage: UsageStore, cfg: Config['usage']): Guard {
  return {
    name: 'quota',
    async check(m, locale) {
      if (!cfg.dailyTokenQuotaPerUser) return { pass: true };
      const used = await usage.todayTokens({
        kind: 'user',
        platform: m.conversation.platform,
        id: m.author.id,
      });
      if (used < cfg.dailyTokenQuotaPerUser) return { pass: true };
      return {
        pass: false,
        reason: 'quota',
        line: t(locale, 'usage.quota', { used, quota: cfg.dailyTokenQuotaPerUser }),
      };
    },
  };
}
