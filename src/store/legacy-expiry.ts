import type KeyvRedis from '@keyv/redis';
import { SQLITE_TABLE, type Store, sqliteOf } from './index.ts';

/**
 * A key family that earlier versions wrote without an expiry. `pattern` is a key pattern where `*`
 * stands for any run of characters (`settings:v1:*:*:*`).
 */
export interface LegacyFamily {
  pattern: string;
  ttlMs: number;
}

interface RedisLike {
  scanIterator(o: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
  pExpire(key: string, ms: number, mode?: 'NX'): Promise<number>;
}

/**
 * Gives every row of these families that has no expiry one, counted from now (start-up of the first
 * version that expires them), so rows written before keep to the same rules as new ones instead of
 * staying forever. Rows that already expire are not touched. `redisPrefixes` are the prefixes the
 * families live under on Redis (the store's `<namespace>::` and the coordinator's counters).
 * Returns the number of rows given an expiry.
 */
export async function expireLegacyRows(
  store: Store,
  families: LegacyFamily[],
  redisPrefixes: string[] = [],
  now = Date.now(),
): Promise<number> {
  const sqlite = sqliteOf(store);
  let total = 0;
  if (sqlite) {
    for (const family of families) {
      const like = family.pattern.replace(/[\\%_]/g, '\\$&').replaceAll('*', '%');
      const rows = (await sqlite.query(
        `UPDATE ${SQLITE_TABLE} SET value = json_set(value, '$.expires', ?)
         WHERE key LIKE ? ESCAPE '\\'
           AND CASE WHEN json_valid(value) THEN coalesce(json_type(value, '$.expires'), 'null') = 'null' END
         RETURNING key`,
        now + family.ttlMs,
        like,
      )) as unknown[];
      total += rows.length;
    }
    return total;
  }
  const adapter = store.store as KeyvRedis<unknown>;
  if (typeof adapter?.isCluster !== 'function' || adapter.isCluster()) return 0;
  const client = adapter.client as unknown as RedisLike;
  for (const family of families) {
    const glob = family.pattern.replace(/[?[\]\\]/g, '\\$&');
    for (const prefix of redisPrefixes) {
      const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}${glob}`;
      for await (const keys of client.scanIterator({ MATCH: match, COUNT: 1000 })) {
        // NX: only keys without an expiry get one.
        const set = await Promise.all(keys.map((key) => client.pExpire(key, family.ttlMs, 'NX')));
        total += set.filter((n) => n === 1).length;
      }
    }
  }
  return total;
}
