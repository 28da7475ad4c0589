import type { Logger } from '../log.ts';
import { SQLITE_TABLE, type Store, sqliteOf } from './index.ts';
import { inBackground } from './statement-lanes.ts';

/** Keys looked at per statement: keeps each write lock short on a large file. */
const PAGE = 2_000;

/**
 * Deletes every row whose expiry has passed, of every key family (history, dedupe ids, usage, …).
 * Keyv only hides an expired row when it is read; on SQLite nothing else ever removes it. Keyv keeps
 * the expiry inside the stored JSON (`{"value":…,"expires":<ms>}`). The table is walked in key order,
 * one page of keys per statement, so the work is one pass however many rows have expired. Redis
 * expires keys on its own: there the sweep does nothing. Returns the number of rows deleted.
 */
export async function sweepExpired(store: Store, now = Date.now()): Promise<number> {
  const sqlite = sqliteOf(store);
  if (!sqlite) return 0;
  const expires = `CASE WHEN json_valid(value) THEN json_extract(value, '$.expires') END`;
  const pageEnd = `SELECT max(key) AS last FROM (
      SELECT key FROM ${SQLITE_TABLE} WHERE key > ? ORDER BY key LIMIT ${PAGE})`;
  const del = `DELETE FROM ${SQLITE_TABLE} WHERE key > ? AND key <= ? AND ${expires} <= ? RETURNING key`;
  let total = 0;
  let after = '';
  for (;;) {
    const [page] = (await sqlite.query(pageEnd, after)) as Array<{ last: string | null }>;
    const last = page?.last;
    if (last === null || last === undefined) return total;
    total += ((await sqlite.query(del, after, last, now)) as unknown[]).length;
    after = last;
  }
}

export interface Sweeper {
  /** Runs one sweep now (also what start-up does). */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Sweeps every `intervalMs` while the bot runs (0: never; call `sweep()` for the start-up one). A
 * failed sweep is logged and tried again at the next interval; it never stops the bot.
 */
export function startSweeper(
  store: Store,
  options: { intervalMs: number; log: Logger; now?: () => number },
): Sweeper {
  const now = options.now ?? Date.now;
  let running: Promise<number> = Promise.resolve(0);
  const sweep = () => {
    running = running.then(async () => {
      const started = Date.now();
      try {
        // Housekeeping: on SQLite its statements give way to answers (statement-lanes.ts).
        const deleted = await inBackground(() => sweepExpired(store, now()));
        if (deleted) options.log.info({ deleted, ms: Date.now() - started }, 'store: expired rows deleted');
        return deleted;
      } catch (err) {
        options.log.warn({ err }, 'store: sweeping expired rows failed; trying again later');
        return 0;
      }
    });
    return running;
  };
  // Redis expires keys itself: nothing to sweep, no timer.
  const timer =
    options.intervalMs > 0 && sqliteOf(store)
      ? setInterval(() => void sweep(), options.intervalMs)
      : undefined;
  timer?.unref();
  return {
    sweep,
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
