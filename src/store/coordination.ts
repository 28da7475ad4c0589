import type { Logger } from '../log.ts';
import { KeyedQueue } from '../util/keyed-queue.ts';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from '../util/rate-limiters.ts';
import { type Store, StoreError, sqliteOf, storeCall } from './index.ts';
import { LocalCounters } from './local-counters.ts';
import { closeRedis, openRedis, type RedisClient } from './redis-connection.ts';
import { RedisTurnLine } from './redis-turns.ts';
import { claimSqliteKey } from './sqlite-batch.ts';

/** Held turn of one conversation; release when the answer is stored. */
export interface Turn {
  release(): Promise<void>;
  /**
   * Aborted (reason: TurnLostError) when the turn may have passed to another instance: its heartbeat
   * could not be renewed for about a heartbeat, or the line moved on. What runs in it should stop.
   */
  readonly signal?: AbortSignal;
}

export interface TurnOptions {
  /** Gives up the place in line (rejecting with the signal's reason) while still waiting. */
  signal?: AbortSignal;
}

/** Deltas for one counter record, created with `ttlMs` when new (each write restarts its lifetime). */
export interface CounterDelta {
  key: string;
  deltas: Record<string, number>;
  ttlMs?: number;
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
  turn(conversation: string, options?: TurnOptions): Promise<Turn>;
  limiter(name: string, points: number, durationSec: number): RateLimiterAbstract;
  /** Adds to numeric fields of a counter record (created with the ttl when new). */
  add(key: string, deltas: Record<string, number>, ttlMs?: number): Promise<void>;
  /**
   * `add` for several counters in one store round trip (one MULTI on Redis, one read and one write on
   * SQLite), e.g. every usage bucket an answer counts in.
   */
  addMany(entries: CounterDelta[]): Promise<void>;
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
  /** Index updates are read-modify-write: one at a time per key. */
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
  private readonly counters: LocalCounters;

  constructor(store: Store) {
    this.store = store;
    this.counters = new LocalCounters(store);
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
    const sqlite = sqliteOf(this.store);
    if (sqlite) return storeCall('record message id', () => claimSqliteKey(sqlite, key, ttlMs));
    if (await storeCall('check duplicate', () => this.store.get(key))) return false;
    await storeCall('record message id', () => this.store.set(key, 1, ttlMs));
    return true;
  }

  async turn(): Promise<Turn> {
    return { release: async () => undefined };
  }

  limiter(_name: string, points: number, durationSec: number): RateLimiterAbstract {
    return new RateLimiterMemory({ points, duration: durationSec });
  }

  add(key: string, deltas: Record<string, number>, ttlMs?: number): Promise<void> {
    return this.counters.add([{ key, deltas, ttlMs }]);
  }

  addMany(entries: CounterDelta[]): Promise<void> {
    return this.counters.add(entries);
  }

  read(key: string): Promise<Record<string, number> | undefined> {
    return this.counters.read(key);
  }

  remove(keys: string[]): Promise<void> {
    return this.counters.remove(keys);
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
      // The mirror is exact while it lives: a known record is extended without reading it again.
      const mirrored = this.indexes.get(key);
      const stored =
        mirrored && mirrored.expiresAt > Date.now() ? mirrored.fields : await this.readIndex(key);
      const current = { ...stored, ...batch.fields };
      const expiresAt = Date.now() + batch.ttlMs;
      await storeCall('save index', () => this.store.set(key, current, batch.ttlMs));
      this.indexes.delete(key);
      if (this.indexDrops.has(key)) return;
      if (this.indexes.size >= INDEX_MIRROR_MAX) this.indexes.delete(this.indexes.keys().next().value ?? '');
      this.indexes.set(key, { fields: current, expiresAt });
    });
    return batch.written;
  }

  async readIndex(key: string): Promise<Record<string, string>> {
    return (await storeCall('load index', () => this.store.get<Record<string, string>>(key))) ?? {};
  }

  dropIndex(key: string): Promise<void> {
    // Notes from now on start a new write queued after the deletion.
    this.indexBatches.delete(key);
    this.indexes.delete(key);
    this.indexDrops.add(key);
    return this.writes.run(key, async () => {
      try {
        await storeCall('delete index', () => this.store.delete(key));
      } finally {
        this.indexDrops.delete(key);
      }
    });
  }

  async close(): Promise<void> {}
}

export interface RedisCoordinatorOptions {
  /** The instance's shared connection (see redis-connection.ts); else one is opened from `url`. */
  client?: RedisClient;
  url?: string;
  /** Names the connections in CLIENT LIST when the coordinator opens its own. */
  instance?: string;
  /** Prefix of every key (one per deployment; tests use one per run). */
  prefix: string;
  log?: Logger;
  /** A holder that stops renewing for this long is presumed dead and skipped. */
  heartbeatMs?: number;
  /** How long a wait for a conversation's turn may last before its place is given up. */
  turnTimeoutMs?: number;
}

/** Several instances on one Redis: SET NX claims, ticket-ordered conversation turns, shared counters. */
export class RedisCoordinator implements Coordinator {
  readonly shared = true;
  readonly client: RedisClient;
  private readonly prefix: string;
  private readonly keep = 86_400_000;
  private readonly line: RedisTurnLine;
  /** Closed with the coordinator only when the coordinator opened it (else the store owns it). */
  private readonly ownsClient: boolean;

  private constructor(client: RedisClient, opts: RedisCoordinatorOptions, ownsClient: boolean) {
    this.client = client;
    this.prefix = opts.prefix;
    this.ownsClient = ownsClient;
    this.line = new RedisTurnLine(client, {
      prefix: opts.prefix,
      log: opts.log,
      heartbeatMs: opts.heartbeatMs ?? 15_000,
      turnTimeoutMs: opts.turnTimeoutMs ?? 120_000,
      keepMs: this.keep,
    });
  }

  static async connect(opts: RedisCoordinatorOptions): Promise<RedisCoordinator> {
    let coordinator: RedisCoordinator;
    if (opts.client) coordinator = new RedisCoordinator(opts.client, opts, false);
    else if (!opts.url) throw new StoreError('redis coordination: needs a client or a url');
    else {
      const client = await openRedis(opts.url, { instance: opts.instance ?? 'coordinator', log: opts.log });
      coordinator = new RedisCoordinator(client, opts, true);
    }
    // Not fatal: a script missing from the cache is sent whole on first use instead.
    await coordinator.line.loadScripts().catch(() => undefined);
    return coordinator;
  }

  private k(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  async claim(id: string, ttlMs: number): Promise<boolean> {
    const res = await storeCall('claim message id', () =>
      this.client.set(this.k('dedupe', id), '1', {
        condition: 'NX',
        expiration: { type: 'PX', value: ttlMs },
      }),
    );
    return res === 'OK';
  }

  turn(conversation: string, options?: TurnOptions): Promise<Turn> {
    return this.line.turn(conversation, options);
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
    await storeCall('add to counter', () => multi.exec());
  }

  async addMany(entries: CounterDelta[]): Promise<void> {
    if (entries.length === 0) return;
    const multi = this.client.multi();
    for (const { key, deltas, ttlMs } of entries) {
      const full = this.k('count', key);
      for (const [field, delta] of Object.entries(deltas)) multi.hIncrByFloat(full, field, delta);
      if (ttlMs) multi.pExpire(full, ttlMs);
    }
    await storeCall('add to counters', () => multi.exec());
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length)
      await storeCall('delete counters', () => this.client.del(keys.map((k) => this.k('count', k))));
  }

  async addToIndex(key: string, field: string, value: string, ttlMs: number): Promise<void> {
    const full = this.k('index', key);
    // One round trip: the field and the new lifetime land together.
    await storeCall('save index', () =>
      this.client.multi().hSet(full, field, value).pExpire(full, ttlMs).exec(),
    );
  }

  async readIndex(key: string): Promise<Record<string, string>> {
    return storeCall('load index', () => this.client.hGetAll(this.k('index', key)));
  }

  async dropIndex(key: string): Promise<void> {
    await storeCall('delete index', () => this.client.del(this.k('index', key)));
  }

  async read(key: string): Promise<Record<string, number> | undefined> {
    const raw = await storeCall('read counter', () => this.client.hGetAll(this.k('count', key)));
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
    await this.line.close();
    if (this.ownsClient) await closeRedis(this.client);
  }
}
