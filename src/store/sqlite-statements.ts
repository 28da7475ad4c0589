import type KeyvSqlite from '@keyv/sqlite';
import sqlite3 from 'sqlite3';

type Rows = Array<Record<string, unknown>>;

/** More distinct statements than the bot has (about 20): dynamic SQL cannot grow the cache without end. */
const MAX_STATEMENTS = 64;

/**
 * Gives Keyv's SQLite adapter prepared statements it keeps. As shipped (@keyv/sqlite 4) every query
 * is `Database#all(sql, …)`: node-sqlite3 prepares the SQL, runs it and finalizes it each time, three
 * trips through its worker thread and ~60–75 µs of CPU per query; a kept statement is bound and run in
 * one trip, ~35 µs. A turn makes about 15 queries on SQLite.
 *
 * The adapter keeps its connection in a closure, so this closes it, opens the file on a connection of
 * its own and creates the adapter's table there (a `:memory:` database is per connection). Resolves
 * once the adapter's `query` and `close` are this connection's.
 */
export async function keepSqliteStatements(
  sqlite: KeyvSqlite,
  file: string,
  busyTimeoutMs: number,
): Promise<void> {
  // First, so a file that cannot be opened fails here as it did before (the adapter's own error).
  await sqlite.close();
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(opened)));
  });
  db.configure('busyTimeout', busyTimeoutMs);
  // Each SQL text → its statement once prepared. node-sqlite3 turns a failure with no callback to take
  // it into an 'error' event, which would throw: every call here passes one.
  const statements = new Map<string, Promise<sqlite3.Statement>>();
  const ignore = () => {};
  const finalize = (ready: Promise<sqlite3.Statement>) =>
    ready.then((statement) => new Promise<void>((resolve) => statement.finalize(() => resolve())), ignore);
  const statementFor = (sql: string): Promise<sqlite3.Statement> => {
    const kept = statements.get(sql);
    if (kept) {
      // Most recently used last, so the first is the one to finalize when the cache is full.
      statements.delete(sql);
      statements.set(sql, kept);
      return kept;
    }
    const ready = new Promise<sqlite3.Statement>((resolve, reject) => {
      const statement = db.prepare(sql, (err: Error | null) => (err ? reject(err) : resolve(statement)));
    });
    statements.set(sql, ready);
    // SQL that does not prepare is tried afresh next time (and reported to each caller).
    ready.catch(() => statements.get(sql) === ready && statements.delete(sql));
    if (statements.size > MAX_STATEMENTS) {
      const [oldest, oldestReady] = statements.entries().next().value as [string, Promise<sqlite3.Statement>];
      statements.delete(oldest);
      void finalize(oldestReady);
    }
    return ready;
  };
  const query = async (sql: string, ...params: unknown[]): Promise<Rows> => {
    const statement = await statementFor(sql);
    return new Promise((resolve, reject) =>
      statement.all(...params, (err: Error | null, rows: Rows) => (err ? reject(err) : resolve(rows))),
    );
  };
  const table = sqlite.opts.table as string;
  const keySize = Number(sqlite.opts.keySize);
  await query(`CREATE TABLE IF NOT EXISTS ${table}(key VARCHAR(${keySize}) PRIMARY KEY, value TEXT )`);
  const adapter = sqlite as unknown as { query: typeof query; close: () => Promise<void> };
  adapter.query = query;
  adapter.close = async () => {
    // SQLite refuses to close a connection with statements left (SQLITE_BUSY).
    const all = [...statements.values()];
    statements.clear();
    await Promise.all(all.map(finalize));
    await new Promise<void>((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));
  };
}
