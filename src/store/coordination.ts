// Loaded by RedisCoordinator.connect only: a single instance on SQLite never needs the Redis client.
import type { createClient } from '@redis/client';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { Logger } from '../log.ts';
import { KeyedQueue } from '../util/keyed-queue.ts';
import { type Store, StoreError } from './index.ts';

/** Held turn of one conversation; release when the answer is stored. */
export interface Turn {
  release(): Promise<void>;
}

/**
 * What several instances must agree on and Keyv cannot do atomically: first-seen claims (dedupe),
 * a per-conversation turn order, shared rate-limit counters, and counters that only add up.
 * In-process for SQLite; Redis for several instances.
 */
export interface Coordinator {
  readonly shared: boolean;
  /** True the first time an id is claimed within ttl. */
  claim(id: string, ttlMs: number): Promise<boolean>;
  /**
   * Takes a place in the conversation's line now (call in arrival order) and resolves when it is this
   * caller's turn. Across instances turns are served in the order places were taken.
   */
  turn(conversation: string): Promise<Turn>;
  limiter(name: string, points: number, durationSec: number): RateLimiterAbstract;
  /** Adds to numeric fields of a counter record (created with the ttl when new). */
  add(key: string, deltas: Record<string, number>, ttlMs?: number): Promise<void>;
  read(key: string): Promise<Record<string, number> | undefined>;
  /** Removes counters (privacy: /forget). */
  remove(keys: string[]): Promise<void>;
  /**
   * Sets one field of a small index record and restarts the record's lifetime, atomically: two
   * conversations (or instances) noting fields of the same record at once both land.
   */
  addToIndex(key: string, field: string, value: string, ttlMs: number): Promise<void>;
  /** The fields of an index record ({} when there is none). */
  readIndex(key: string): Promise<Record<string, string>>;
  dropIndex(key: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A write that would only restart an index's lifetime is skipped while the stored lifetime is within
 * this much of the one asked for (callers' margins are larger: the /forget index adds a day).
 */
const INDEX_REFRESH_SLACK_MS = 3_600_000;
const INDEX_MIRROR_MAX = 10_000;
const CLAIM_SWEEP_MS = 60_000;

/** One process: turns are ordered by the service's in-process queue already. */
export class LocalCoordinator implements Coordinator {
  readonly shared = false;
  private readonly store: Store;
  private readonly claims = new Map<string, number>();
  private lastClaimSweep = Date.now();
  /** Counter updates are read-modify-write: one at a time per key. */
  private readonly writes = new KeyedQueue();
  /**
   * What this process last wrote to each index record, and until when it lives. This process is the
   * store's only writer (SQLite is locked to one process), so the mirror is exact; it spares a read and
   * a write per turn for a user already indexed in that conversation. Without it, one busy user's turns
   * in many conversations queued on that user's record before their model calls.
   */
  private readonly indexes = new Map<string, { fields: Record<string, string>; expiresAt: number }>();
  /** Index fields waiting for their record's write: everything that arrives meanwhile lands in one write. */
  private readonly indexBatches = new Map<
    string,
    { fields: Record<string, string>; ttlMs: number; written: Promise<void> }
  >();
  /** Index records with a deletion queued: notes made meanwhile must be written after it, not skipped. */
  private readonly indexDrops = new Set<string>();

  constructor(store: Store) {
    this.store = store;
  }

  /** Message ids held for duplicate detection. */
  get claimsHeld(): number {
    return this.claims.size;
  }

  /**
   * Every message leaves a claim; expired ones are dropped at most once a minute (each sweep walks all
   * of them), so the map holds about one dedupe window of messages instead of growing until a cap.
   */
  private forgetExpiredClaims(now: number): void {
    if (now - this.lastClaimSweep < CLAIM_SWEEP_MS) return;
    this.lastClaimSweep = now;
    for (const [k, exp] of this.claims) if (exp <= now) this.claims.delete(k);
  }

  async claim(id: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const key = `dedupe:v1:${id}`;
    const until = this.claims.get(key);
    if (until !== undefined && until > now) return false;
    this.claims.set(key, now + ttlMs);
    this.forgetExpiredClaims(now);
    // The store remembers across restarts (a platform may redeliver after one).
    if (await wrap('check duplicate', () => this.store.get(key))) return false;
    await wrap('record message id', () => this.store.set(key, 1, ttlMs));
    return true;
  }

  async turn(): Promise<Turn> {
    return { release: async () => undefined };
  }

  limiter(_name: string, points: number, durationSec: number): RateLimiterAbstract {
    return new RateLimiterMemory({ points, duration: durationSec });
  }

  add(key: string, deltas: Record<string, number>, ttlMs?: number): Promise<void> {
    return this.writes.run(key, async () => {
      const current = (await wrap('load counter', () => this.store.get<Record<string, number>>(key))) ?? {};
      for (const [field, delta] of Object.entries(deltas)) current[field] = (current[field] ?? 0) + delta;
      await wrap('save counter', () => this.store.set(key, current, ttlMs));
    });
  }

  async read(key: string): Promise<Record<string, number> | undefined> {
    return wrap('load counter', () => this.store.get<Record<string, number>>(key));
  }

  async remove(keys: string[]): Promise<void> {
    await wrap('delete counters', () => Promise.all(keys.map((k) => this.store.delete(k))));
  }

  addToIndex(key: string, field: string, value: string, ttlMs: number): Promise<void> {
    const known = this.indexes.get(key);
    if (known?.fields[field] === value && known.expiresAt - Date.now() >= ttlMs - INDEX_REFRESH_SLACK_MS)
      return Promise.resolve();
    const waiting = this.indexBatches.get(key);
    if (waiting) {
      waiting.fields[field] = value;
      waiting.ttlMs = Math.max(waiting.ttlMs, ttlMs);
      return waiting.written;
    }
    const batch = { fields: { [field]: value }, ttlMs, written: Promise.resolve() };
    this.indexBatches.set(key, batch);
    // Same queue as the counters: a read-modify-write per key, one at a time.
    batch.written = this.writes.run(key, async () => {
      this.indexBatches.delete(key);
      const current = { ...(await this.readIndex(key)), ...batch.fields };
      const expiresAt = Date.now() + batch.ttlMs;
      await wrap('save index', () => this.store.set(key, current, batch.ttlMs));
      this.indexes.delete(key);
      if (this.indexDrops.has(key)) return;
      if (this.indexes.size >= INDEX_MIRROR_MAX) this.indexes.delete(this.indexes.keys().next().value ?? '');
      this.indexes.set(key, { fields: current, expiresAt });
    });
    return batch.written;
  }

  async readIndex(key: string): Promise<Record<string, string>> {
    return (await wrap('load index', () => this.store.get<Record<string, string>>(key))) ?? {};
  }

  dropIndex(key: string): Promise<void> {
    // Notes from now on start a new write queued after the deletion.
    this.indexBatches.delete(key);
    this.indexes.delete(key);
    this.indexDrops.add(key);
    return this.writes.run(key, async () => {
      try {
        await wrap('delete index', () => this.store.delete(key));
      } finally {
        this.indexDrops.delete(key);
      }
    });
  }

  async close(): Promise<void> {}
}

type RedisClient = ReturnType<typeof createClient>;

// Advances `serving` past a ticket whose holder vanished (no heartbeat), only if nobody moved it.
const SKIP_DEAD = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local serving = tonumber(redis.call('GET', KEYS[1]) or '0')
if serving ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], serving + 1, 'PX', ARGV[2])
return 1`;
// Hands the turn on: serving = my ticket, heartbeat gone.
const RELEASE = `
local serving = tonumber(redis.call('GET', KEYS[1]) or '0')
if serving == tonumber(ARGV[1]) - 1 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1`;

const RELEASE_RETRY_MS = 200;

export interface RedisCoordinatorOptions {
  url: string;
  /** Prefix of every key (one per deployment; tests use one per run). */
  prefix: string;
  log?: Logger;
  /** A holder that stops renewing for this long is presumed dead and skipped. */
  heartbeatMs?: number;
  pollMs?: number;
}

/** Several instances on one Redis: SET NX claims, ticket-ordered conversation turns, shared counters. */
export class RedisCoordinator implements Coordinator {
  readonly shared = true;
  readonly client: RedisClient;
  private readonly prefix: string;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly keep = 86_400_000;
  private readonly retries = new Set<NodeJS.Timeout>();

  private constructor(client: RedisClient, opts: RedisCoordinatorOptions) {
    this.client = client;
    this.prefix = opts.prefix;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.pollMs = opts.pollMs ?? 15;
  }

  static async connect(opts: RedisCoordinatorOptions): Promise<RedisCoordinator> {
    const { createClient: createRedisClient } = await import('@redis/client');
    const client = createRedisClient({
      url: opts.url,
      // Keep reconnecting during an outage; commands fail fast meanwhile instead of queueing forever.
      socket: { reconnectStrategy: (retries) => Math.min(retries * 100, 2000), connectTimeout: 5000 },
      disableOfflineQueue: true,
    });
    client.on('error', (err: unknown) => opts.log?.warn({ err }, 'redis connection error'));
    try {
      await client.connect();
    } catch (err) {
      throw new StoreError(`redis coordination: cannot connect: ${(err as Error).message}`, { cause: err });
    }
    return new RedisCoordinator(client as unknown as RedisClient, opts);
  }

  private k(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  async claim(id: string, ttlMs: number): Promise<boolean> {
    const res = await wrap('claim message id', () =>
      this.client.set(this.k('dedupe', id), '1', {
        condition: 'NX',
        expiration: { type: 'PX', value: ttlMs },
      }),
    );
    return res === 'OK';
  }

  async turn(conversation: string): Promise<Turn> {
    const ticketKey = this.k('turn', conversation, 'ticket');
    const servingKey = this.k('turn', conversation, 'serving');
    const hbKey = this.k('turn', conversation, 'hb');
    const ticket = await wrap('take a turn', () => this.client.incr(ticketKey));
    await this.client.pExpire(ticketKey, this.keep).catch(() => undefined);
    let lastServing = -1;
    let since = Date.now();
    for (;;) {
      const serving = Number((await wrap('wait for turn', () => this.client.get(servingKey))) ?? '0');
      if (serving === ticket - 1) break;
      if (serving !== lastServing) {
        lastServing = serving;
        since = Date.now();
      } else if (Date.now() - since > this.heartbeatMs) {
        await this.client.eval(SKIP_DEAD, {
          keys: [servingKey, hbKey],
          arguments: [String(serving), String(this.keep)],
        });
        since = Date.now();
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
    await this.client.set(hbKey, String(ticket), { expiration: { type: 'PX', value: this.heartbeatMs } });
    const renew = setInterval(() => {
      void this.client
        .set(hbKey, String(ticket), { expiration: { type: 'PX', value: this.heartbeatMs } })
        .catch(() => undefined);
    }, this.heartbeatMs / 3);
    const release = () =>
      this.client.eval(RELEASE, {
        keys: [servingKey, hbKey],
        arguments: [String(ticket), String(this.keep)],
      });
    return {
      release: async () => {
        clearInterval(renew);
        await release().catch(() => this.retryRelease(release));
      },
    };
  }

  /**
   * A turn released while Redis was unreachable is handed on as soon as it is back. Without this the
   * conversation's next message waited for the dead-holder timeout (heartbeatMs, 15 s) after an outage.
   */
  private retryRelease(release: () => Promise<unknown>): void {
    const deadline = Date.now() + this.heartbeatMs;
    const timer = setInterval(() => {
      if (Date.now() > deadline) return this.stopRetry(timer);
      void release().then(
        () => this.stopRetry(timer),
        () => undefined,
      );
    }, RELEASE_RETRY_MS);
    timer.unref();
    this.retries.add(timer);
  }

  private stopRetry(timer: NodeJS.Timeout): void {
    clearInterval(timer);
    this.retries.delete(timer);
  }

  limiter(name: string, points: number, durationSec: number): RateLimiterAbstract {
    return new RateLimiterRedis({
      storeClient: this.client as unknown as object,
      useRedisPackage: true,
      keyPrefix: this.k('rl', name),
      points,
      duration: durationSec,
      // During a Redis outage limits fall back to this process rather than failing every message.
      insuranceLimiter: new RateLimiterMemory({ points, duration: durationSec }),
    });
  }

  async add(key: string, deltas: Record<string, number>, ttlMs?: number): Promise<void> {
    const full = this.k('count', key);
    const multi = this.client.multi();
    for (const [field, delta] of Object.entries(deltas)) multi.hIncrByFloat(full, field, delta);
    if (ttlMs) multi.pExpire(full, ttlMs);
    await wrap('add to counter', () => multi.exec());
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length)
      await wrap('delete counters', () => this.client.del(keys.map((k) => this.k('count', k))));
  }

  async addToIndex(key: string, field: string, value: string, ttlMs: number): Promise<void> {
    const full = this.k('index', key);
    // One round trip: the field and the new lifetime land together.
    await wrap('save index', () => this.client.multi().hSet(full, field, value).pExpire(full, ttlMs).exec());
  }

  async readIndex(key: string): Promise<Record<string, string>> {
    return wrap('load index', () => this.client.hGetAll(this.k('index', key)));
  }

  async dropIndex(key: string): Promise<void> {
    await wrap('delete index', () => this.client.del(this.k('index', key)));
  }

  async read(key: string): Promise<Record<string, number> | undefined> {
    const raw = await wrap('read counter', () => this.client.hGetAll(this.k('count', key)));
    const entries = Object.entries(raw);
    if (entries.length === 0) return undefined;
    return Object.fromEntries(entries.map(([f, v]) => [f, Number(v)]));
  }

  /** Deletes every key under this coordinator's prefix (tests leave nothing behind). */
  async clearAll(): Promise<void> {
    for await (const keys of this.client.scanIterator({ MATCH: `${this.prefix}:*`, COUNT: 500 })) {
      if (keys.length) await this.client.del(keys);
    }
  }

  async close(): Promise<void> {
    for (const timer of this.retries) clearInterval(timer);
    this.retries.clear();
    await this.client.close().catch(() => undefined);
  }
}

async function wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`${what} failed: ${(err as Error).message}`, { cause: err });
  }
}
