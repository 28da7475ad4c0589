import type { Config } from '../config/schema.ts';
import { t } from '../i18n.ts';
import type { Usage } from '../qwen/client.ts';
import type { Store } from '../store/index.ts';
import type { Guard } from './guards.ts';
import { guard as storeCall } from './history.ts';
import { KeyedQueue } from './keyed-queue.ts';
import type { ConversationRef } from './types.ts';
import { conversationKey } from './types.ts';

export interface UsageTotals {
  answers: number;
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  /** Estimated cost in the catalogue's currency (CNY). */
  cost: number;
}

export const emptyTotals = (): UsageTotals => ({
  answers: 0,
  promptTokens: 0,
  completionTokens: 0,
  reasoningTokens: 0,
  cost: 0,
});

export type UsageScope =
  | { kind: 'conversation'; key: string }
  | { kind: 'user'; platform: string; id: string }
  | { kind: 'workspace'; platform: string; id: string };

const DAY_MS = 86_400_000;
/** Daily buckets are kept this long; the all-time bucket has no expiry. */
const DAILY_RETENTION_MS = 40 * DAY_MS;

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

export function costOf(usage: Usage, price: { priceIn: number; priceOut: number } | undefined): number {
  if (!price) return 0;
  return (usage.promptTokens * price.priceIn + usage.completionTokens * price.priceOut) / 1_000_000;
}

/**
 * Token usage and cost per conversation, user and workspace, in daily buckets plus an all-time total,
 * under `usage:v1:<scope>:<YYYY-MM-DD|all>`. Updates are serialised per key in this process.
 */
export class UsageStore {
  private readonly store: Store;
  private readonly locks = new KeyedQueue();
  private readonly now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.store = store;
    this.now = now;
  }

  static key(scope: UsageScope, day: string): string {
    return `usage:v1:${scopeId(scope)}:${day}`;
  }

  day(offsetDays = 0): string {
    return new Date(this.now() - offsetDays * DAY_MS).toISOString().slice(0, 10);
  }

  async record(scopes: UsageScope[], usage: Usage, cost: number): Promise<void> {
    const today = this.day();
    const writes = scopes.flatMap((scope) => [
      this.add(UsageStore.key(scope, today), usage, cost, DAILY_RETENTION_MS),
      this.add(UsageStore.key(scope, 'all'), usage, cost, undefined),
    ]);
    await Promise.all(writes);
  }

  private add(key: string, usage: Usage, cost: number, ttl: number | undefined): Promise<void> {
    return this.locks.run(key, async () => {
      const prev = (await storeCall('load usage', () => this.store.get<UsageTotals>(key))) ?? emptyTotals();
      const next: UsageTotals = {
        answers: prev.answers + 1,
        promptTokens: prev.promptTokens + usage.promptTokens,
        completionTokens: prev.completionTokens + usage.completionTokens,
        reasoningTokens: prev.reasoningTokens + usage.reasoningTokens,
        cost: prev.cost + cost,
      };
      await storeCall('save usage', () => this.store.set(key, next, ttl));
    });
  }

  /** Totals for today, the last 7 days (today included) and all time. */
  async totals(scope: UsageScope): Promise<{ today: UsageTotals; week: UsageTotals; all: UsageTotals }> {
    const days = Array.from({ length: 7 }, (_, i) => UsageStore.key(scope, this.day(i)));
    const [all, ...daily] = await storeCall('load usage', () =>
      Promise.all([
        this.store.get<UsageTotals>(UsageStore.key(scope, 'all')),
        ...days.map((k) => this.store.get<UsageTotals>(k)),
      ]),
    );
    const week = daily.reduce<UsageTotals>((acc, d) => sum(acc, d ?? emptyTotals()), emptyTotals());
    return { today: daily[0] ?? emptyTotals(), week, all: all ?? emptyTotals() };
  }

  async todayTokens(scope: UsageScope): Promise<number> {
    const today = await storeCall('load usage', () =>
      this.store.get<UsageTotals>(UsageStore.key(scope, this.day())),
    );
    return today ? today.promptTokens + today.completionTokens : 0;
  }
}

function sum(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    answers: a.answers + b.answers,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    cost: a.cost + b.cost,
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
