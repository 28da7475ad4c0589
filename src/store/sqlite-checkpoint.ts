import KeyvSqlite from '@keyv/sqlite';

/** How often the write-ahead log is copied into the database file, off the bot's own connection. */
export const CHECKPOINT_INTERVAL_MS = 1000;

export interface WalCheckpointer {
  /** Runs one checkpoint now (the timer does this every CHECKPOINT_INTERVAL_MS when the store was used). */
  checkpoint(): Promise<void>;
  /** Stops the timer, waits for a checkpoint in flight and closes the connection. */
  close(): Promise<void>;
  /** Checkpoints run so far. */
  readonly runs: number;
}

/**
 * Moves SQLite's WAL checkpoints off the connection the bot queries on. By default SQLite checkpoints
 * inside the commit that takes the log past 1,000 pages, and with `synchronous=NORMAL` a checkpoint is
 * where the fsyncs happen: tens of ms on a virtual disk, during which every other query of the bot's one
 * connection waits (the history read before a model call among them). Here the bot's connection never
 * checkpoints (`wal_autocheckpoint=0`) and a second connection to the same file runs a PASSIVE
 * checkpoint every second in which the bot used the store, which in WAL mode runs beside the writers
 * instead of in front of them.
 * Throws when the second connection cannot be opened; the bot's connection is then left as it was.
 */
export async function startWalCheckpointer(main: KeyvSqlite, file: string): Promise<WalCheckpointer> {
  const side = new KeyvSqlite({
    uri: `sqlite://${file}`,
    table: main.opts.table as string,
    busyTimeout: 5000,
  });
  // Its failures reach the caller through the rejected query below (an unheard 'error' event would throw).
  side.on('error', () => undefined);
  // Only copies pages: a small page cache is enough.
  await side.query('PRAGMA cache_size=-256');
  // Only once the second connection works: until then SQLite keeps checkpointing on its own.
  await main.query('PRAGMA wal_autocheckpoint=0');
  // A quiet bot runs no checkpoints: each tick only looks whether the bot's connection was used.
  let used = false;
  // Statements alone go through `query`, joined ones (sqlite-batch.ts) through `queryNow`.
  const connection = main as unknown as Record<
    'query' | 'queryNow',
    (...args: unknown[]) => Promise<unknown>
  >;
  for (const name of ['query', 'queryNow'] as const) {
    const query = connection[name];
    if (typeof query !== 'function') continue;
    connection[name] = (...args: unknown[]) => {
      used = true;
      return query(...args);
    };
  }
  let running: Promise<void> | null = null;
  let closed = false;
  let runs = 0;
  const checkpoint = (): Promise<void> => {
    if (closed) return running ?? Promise.resolve();
    used = false;
    if (!running) runs++;
    running ??= side
      .query('PRAGMA wal_checkpoint(PASSIVE)')
      .then(() => undefined)
      // A checkpoint that could not run now is retried by the next tick; the log keeps every commit.
      .catch(() => undefined)
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => {
    if (used) void checkpoint();
  }, CHECKPOINT_INTERVAL_MS);
  timer.unref();
  return {
    checkpoint,
    get runs() {
      return runs;
    },
    async close() {
      if (closed) return;
      clearInterval(timer);
      closed = true;
      await running;
      await side.close();
    },
  };
}
