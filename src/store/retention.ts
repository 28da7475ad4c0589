import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Store } from './index.ts';
import { expireLegacyRows } from './legacy-expiry.ts';
import { type Sweeper, startSweeper } from './sweep.ts';

const DAY_MS = 86_400_000;

/**
 * Start-up retention work: rows of families that never expired before get their lifetime (settings of
 * conversations, all-time usage totals), expired rows are deleted (SQLite), and the periodic sweep
 * starts. Failures are logged; they never stop the bot.
 */
export async function startRetention(
  store: Store,
  opts: { config: Config; namespace: string; log: Logger },
): Promise<Sweeper> {
  const { config, namespace, log } = opts;
  const adopted = await expireLegacyRows(
    store,
    [
      // Conversation keys have at least three parts; workspace defaults (two) keep no expiry.
      { pattern: 'settings:v1:*:*:*', ttlMs: config.store.settingsRetentionDays * DAY_MS },
      { pattern: 'usage:v1:*:all', ttlMs: config.usage.totalsRetentionDays * DAY_MS },
    ],
    [`${namespace}::`, `${namespace}:coord:count:`],
  ).catch((err: unknown) => {
    log.warn({ err }, 'store: could not give older rows an expiry; trying again at the next start');
    return 0;
  });
  if (adopted) log.info({ rows: adopted }, 'store: older rows given an expiry');
  const sweeper = startSweeper(store, { intervalMs: config.store.sweepMinutes * 60_000, log });
  await sweeper.sweep();
  return sweeper;
}
