import type KeyvSqlite from '@keyv/sqlite';
import type { SqliteConnection } from './sqlite-statements.ts';
import { inBackgroundLane, type JoinedStatement } from './statement-lanes.ts';

interface Claim {
  key: string;
  value: string;
}

/** The claim batcher of each adapter `batchSqliteWrites` has prepared. */
const claimers = new WeakMap<KeyvSqlite, (claim: Claim) => Promise<boolean>>();

/**
 * Gives Keyv's SQLite adapter one statement per batch. As
 * shipped (@keyv/sqlite 4) it has no `setMany`, so Keyv wrote a batch one INSERT (one implicit
 * transaction, one WAL commit) per entry, and each delete ran a SELECT before its DELETE only to
 * return whether a row was there. Here a batch of writes is one upsert over a JSON array and a delete
 * is one DELETE … RETURNING, and reads, writes, deletes and claims that wait for the connection join
 * the statement of their kind waiting with them (statement-lanes.ts): one query each, and each
 * caller's batch lands whole or not at all.
 */
export function batchSqliteWrites(sqlite: KeyvSqlite): void {
  const table = sqlite.opts.table as string;
  const connection = sqlite as unknown as SqliteConnection;
  const query = (sql: string, ...params: unknown[]) => connection.queryNow(sql, ...params);
  const joined =
    <In, Out>(statement: JoinedStatement<In, Out>) =>
    (item: In) =>
      connection.lanes.join(inBackgroundLane(), statement, item);
  const select = `SELECT * FROM ${table} WHERE key IN (SELECT value FROM json_each(?))`;
  const upsert = `INSERT INTO ${table} (key, value)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?) WHERE true
    ON CONFLICT(key) DO UPDATE SET value = excluded.value`;
  const remove = `DELETE FROM ${table} WHERE key IN (SELECT value FROM json_each(?)) RETURNING key`;
  // A claim writes its key unless a live record is there; RETURNING names the keys it wrote.
  const claim = `${upsert} WHERE json_extract(${table}.value, '$.expires') <= ? RETURNING key`;

  const reads = joined<string[], unknown[]>(async (batches) => {
    const rows = await query(select, JSON.stringify([...new Set(batches.flat())]));
    const found = new Map(rows.map((row) => [row.key as string, row.value]));
    return batches.map((keys) => keys.map((key) => found.get(key)));
  });
  const writes = joined<Array<{ key: string; value: unknown }>, void>(async (batches) => {
    await query(upsert, JSON.stringify(batches.flatMap((entries) => entries.map((e) => [e.key, e.value]))));
    return [];
  });
  const deletes = joined<string[], boolean>(async (batches) => {
    const rows = await query(remove, JSON.stringify([...new Set(batches.flat())]));
    const gone = new Set(rows.map((row) => row.key as string));
    return batches.map((keys) => keys.some((key) => gone.has(key)));
  });
  claimers.set(
    sqlite,
    joined<Claim, boolean>(async (claims) => {
      const rows = await query(claim, JSON.stringify(claims.map((c) => [c.key, c.value])), Date.now());
      const won = new Set(rows.map((row) => row.key as string));
      // One key claimed twice in a batch: the first call has it.
      return claims.map((c) => won.delete(c.key));
    }),
  );

  const adapter = sqlite as unknown as {
    get(key: string): Promise<unknown>;
    getMany(keys: string[]): Promise<unknown[]>;
    set(key: string, value: unknown): Promise<void>;
    setMany(entries: Array<{ key: string; value: unknown }>): Promise<void>;
    delete(key: string): Promise<boolean>;
    deleteMany(keys: string[]): Promise<boolean>;
  };
  adapter.get = async (key) => (await reads([key]))[0];
  adapter.getMany = (keys) => (keys.length ? reads(keys) : Promise.resolve([]));
  adapter.set = (key, value) => writes([{ key, value }]);
  adapter.setMany = async (entries) => {
    if (entries.length) await writes(entries);
  };
  adapter.delete = (key) => deletes([key]);
  adapter.deleteMany = (keys) => (keys.length ? deletes(keys) : Promise.resolve(false));
}

/**
 * Records `key` unless a live record is there, in one statement (shared with the claims waiting with it): true when this call recorded it (new, or the old record had expired).
 * Stored as Keyv stores it, so Keyv reads it back as usual.
 */
export async function claimSqliteKey(sqlite: KeyvSqlite, key: string, ttlMs: number): Promise<boolean> {
  const claimer = claimers.get(sqlite);
  if (!claimer) throw new Error('claimSqliteKey: the adapter was not prepared by batchSqliteWrites');
  return claimer({ key, value: JSON.stringify({ value: 1, expires: Date.now() + ttlMs }) });
}
