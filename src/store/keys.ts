import type KeyvRedis from '@keyv/redis';
import { SQLITE_TABLE, type Store, sqliteOf } from './index.ts';

/** Glob characters in a Redis MATCH pattern are taken literally. */
const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

/**
 * Every key of the store that starts with `prefix` (without the namespace, as Keyv sees keys), for
 * the few jobs that must find rows nobody can name any more (FAQ vectors of deleted entries).
 * SQLite: a range scan of the primary key. Redis: SCAN, which never blocks the server. Undefined
 * when the store cannot list keys (Redis Cluster).
 */
export async function listKeys(store: Store, prefix: string): Promise<string[] | undefined> {
  const sqlite = sqliteOf(store);
  if (sqlite) {
    // Keys between the prefix and the prefix with its last character bumped: the index does the work.
    const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const rows = (await sqlite.query(
      `SELECT key FROM ${SQLITE_TABLE} WHERE key >= ? AND key < ?`,
      prefix,
      upper,
    )) as Array<{ key: string }>;
    return rows.map((r) => r.key);
  }
  const redis = store.store as KeyvRedis<unknown>;
  if (typeof redis?.isCluster !== 'function' || redis.isCluster()) return undefined;
  const client = redis.client as unknown as {
    scanIterator(o: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
  };
  const full = redis.createKeyPrefix(prefix, redis.namespace);
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${escapeGlob(full)}*`, COUNT: 1000 }))
    for (const key of batch) keys.push(redis.getKeyWithoutPrefix(key, redis.namespace));
  return keys;
}
