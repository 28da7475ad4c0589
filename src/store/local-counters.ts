import { KeyedQueue } from '../util/keyed-queue.ts';
import type { CounterDelta } from './coordination.ts';
import { type Store, storeCall } from './index.ts';

/** Counters mirrored in memory (the most recently written first out of the window goes). */
const MIRROR_MAX = 4096;

interface Mirrored {
  value: Record<string, number>;
  /** When the stored record expires (undefined: never). */
  expiresAt: number | undefined;
}

/**
 * Counters that only add up, for one process that is its store's only writer (SQLite is locked to one
 * process). An update is a read-modify-write of a store record; here every update asked for while one
 * is being written lands in the next single batch, and the records this process wrote last are
 * mirrored, so a batch reads only the counters it does not hold (usually none) and writes them all in
 * one statement: an answer's six usage buckets cost one write instead of six reads and six writes.
 */
export class LocalCounters {
  private readonly store: Store;
  private readonly now: () => number;
  /** Batches and deletions run one at a time, in order. */
  private readonly queue = new KeyedQueue();
  private pending: { entries: CounterDelta[]; written: Promise<void> } | undefined;
  private readonly mirror = new Map<string, Mirrored>();

  constructor(store: Store, now: () => number = Date.now) {
    this.store = store;
    this.now = now;
  }

  add(entries: CounterDelta[]): Promise<void> {
    if (this.pending) {
      this.pending.entries.push(...entries);
      return this.pending.written;
    }
    const batch = { entries: [...entries], written: Promise.resolve() };
    this.pending = batch;
    batch.written = this.queue.run('counters', async () => {
      this.pending = undefined;
      await this.write(batch.entries);
    });
    return batch.written;
  }

  async read(key: string): Promise<Record<string, number> | undefined> {
    const known = this.known(key);
    if (known) return { ...known.value };
    return storeCall('load counter', () => this.store.get<Record<string, number>>(key));
  }

  /** Deletes counters, after any batch already asked for (which cannot write them back). */
  remove(keys: string[]): Promise<void> {
    return this.queue.run('counters', async () => {
      for (const key of keys) this.mirror.delete(key);
      if (keys.length) await storeCall('delete counters', () => this.store.deleteMany(keys));
    });
  }

  private async write(entries: CounterDelta[]): Promise<void> {
    const keys = [...new Set(entries.map((e) => e.key))];
    const records = new Map<string, { value: Record<string, number>; ttlMs: number }>();
    const unknown: string[] = [];
    for (const key of keys) {
      const known = this.known(key);
      if (known) records.set(key, { value: { ...known.value }, ttlMs: 0 });
      else unknown.push(key);
    }
    if (unknown.length) {
      const stored = await storeCall('load counter', () =>
        this.store.getMany<Record<string, number>>(unknown),
      );
      unknown.forEach((key, i) => {
        records.set(key, { value: { ...stored[i] }, ttlMs: 0 });
      });
    }
    // Deltas are applied one by one in arrival order, as separate updates would have summed them.
    for (const { key, deltas, ttlMs } of entries) {
      const record = records.get(key) as { value: Record<string, number>; ttlMs: number };
      for (const [field, delta] of Object.entries(deltas))
        record.value[field] = (record.value[field] ?? 0) + delta;
      record.ttlMs = Math.max(record.ttlMs, ttlMs ?? 0);
    }
    const rows = [...records].map(([key, { value, ttlMs }]) => ({
      key,
      value,
      ...(ttlMs ? { ttl: ttlMs } : {}),
    }));
    const writtenAt = this.now();
    try {
      await storeCall('save counter', () => this.store.setMany(rows));
    } catch (err) {
      // Whether it landed is unknown: the next update reads the store again.
      for (const key of keys) this.mirror.delete(key);
      throw err;
    }
    for (const row of rows) {
      this.mirror.delete(row.key);
      if (this.mirror.size >= MIRROR_MAX) this.mirror.delete(this.mirror.keys().next().value ?? '');
      this.mirror.set(row.key, { value: row.value, expiresAt: row.ttl ? writtenAt + row.ttl : undefined });
    }
  }

  private known(key: string): Mirrored | undefined {
    const known = this.mirror.get(key);
    if (!known) return undefined;
    // Slightly early: a record about to expire in the store is read from there (and found gone).
    if (known.expiresAt !== undefined && known.expiresAt - 1000 <= this.now()) {
      this.mirror.delete(key);
      return undefined;
    }
    return known;
  }
}
