import type KeyvSqlite from '@keyv/sqlite';
import sqlite3 from 'sqlite3';
import { inBackgroundLane, StatementLanes } from './statement-lanes.ts';

type Rows = Array<Record<string, unknown>>;

/** What `keepSqliteStatements` adds to the adapter: its lanes, and a query for a statement in its slot. */
export interface SqliteConnection {
  query(sql: string, ...params: unknown[]): Promise<Rows>;
  lanes: StatementLanes;
  queryNow(sql: string, ...params: unknown[]): Promise<Rows>;
}

/**
 * Two statements handed to node-sqlite3 at once keep its worker busy while the main thread picks the
 * next (one alone measured 5–10 % fewer turns/s); the rest wait in their lane.
 */
const STATEMENTS_IN_FLIGHT = 2;
/** A background statement waits at most this long behind foreground ones. */
const PROMOTE_BACKGROUND_AFTER_MS = 500;
/**
 * Calls one joined statement serves. At 100 conversations at once: 4 gave 730 turns/s and 8.6 ms
 * before the model request (p50); 32, 900 turns/s and 21–25 ms; none joined, 450 and 3 ms.
 */
const MAX_JOINED = 4;

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
  const lanes = new StatementLanes({
    inFlight: STATEMENTS_IN_FLIGHT,
    promoteAfterMs: PROMOTE_BACKGROUND_AFTER_MS,
    maxJoined: MAX_JOINED,
  });
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
  // Run in a lane slot (the statement is taken there, so one evicted from the cache meanwhile is not run).
  const queryNow = async (sql: string, ...params: unknown[]): Promise<Rows> => {
    const statement = await statementFor(sql);
    return new Promise<Rows>((resolve, reject) =>
      statement.all(...params, (err: Error | null, rows: Rows) => (err ? reject(err) : resolve(rows))),
    );
  };
  const query = (sql: string, ...params: unknown[]): Promise<Rows> =>
    lanes.run(inBackgroundLane(), () => queryNow(sql, ...params));
  const table = sqlite.opts.table as string;
  const keySize = Number(sqlite.opts.keySize);
  await query(`CREATE TABLE IF NOT EXISTS ${table}(key VARCHAR(${keySize}) PRIMARY KEY, value TEXT )`);
  const adapter = sqlite as unknown as SqliteConnection & { close: () => Promise<void> };
  adapter.query = query;
  adapter.lanes = lanes;
  adapter.queryNow = queryNow;
  adapter.close = async () => {
    // Statements still waiting in a lane run first; SQLite refuses to close a connection with
    // statements left (SQLITE_BUSY).
    await lanes.idle();
    const all = [...statements.values()];
    statements.clear();
    await Promise.all(all.map(finalize));
    await new Promise<void>((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));
  };
}
