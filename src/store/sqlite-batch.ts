import type KeyvSqlite from '@keyv/sqlite';

type Rows = Array<Record<string, unknown>>;

/**
 * Gives Keyv's SQLite adapter one statement per batch. As shipped (@keyv/sqlite 4) it has no
 * `setMany`, so Keyv wrote a batch one INSERT (one implicit transaction, one WAL commit) per entry,
 * and each delete ran a SELECT before its DELETE only to return whether a row was there. Here a batch
 * of writes is one upsert over a JSON array and a delete is one DELETE … RETURNING: one query each,
 * and a batch lands whole or not at all.
 */
export function batchSqliteWrites(sqlite: KeyvSqlite): void {
  const table = sqlite.opts.table as string;
  const query = (sql: string, ...params: unknown[]) => sqlite.query(sql, ...params) as Promise<Rows>;
  const upsert = `INSERT INTO ${table} (key, value)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?) WHERE true
    ON CONFLICT(key) DO UPDATE SET value = excluded.value`;
  const adapter = sqlite as unknown as {
    setMany(entries: Array<{ key: string; value: unknown }>): Promise<void>;
    delete(key: string): Promise<boolean>;
    deleteMany(keys: string[]): Promise<boolean>;
  };
  adapter.setMany = async (entries) => {
    if (entries.length === 0) return;
    await query(upsert, JSON.stringify(entries.map((e) => [e.key, e.value])));
  };
  adapter.delete = async (key) =>
    (await query(`DELETE FROM ${table} WHERE key = ? RETURNING key`, key)).length > 0;
  adapter.deleteMany = async (keys) =>
    (
      await query(
        `DELETE FROM ${table} WHERE key IN (SELECT value FROM json_each(?)) RETURNING key`,
        JSON.stringify(keys),
      )
    ).length > 0;
}

/**
 * Records `key` unless a live record is there, in one statement: true when this call recorded it
 * (new, or the old record had expired). Stored as Keyv stores it, so Keyv reads it back as usual.
 */
export async function claimSqliteKey(sqlite: KeyvSqlite, key: string, ttlMs: number): Promise<boolean> {
  const now = Date.now();
  const rows = (await sqlite.query(
    `INSERT INTO ${sqlite.opts.table as string} (key, value) VALUES (?, ?)
     ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE json_extract(value, '$.expires') <= ?
     RETURNING key`,
    key,
    JSON.stringify({ value: 1, expires: now + ttlMs }),
    now,
  )) as Rows;
  return rows.length > 0;
}
