import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeStore, createStore, SQLITE_TABLE, type Store, sqliteOf } from '../../src/store/index.ts';
import { startSweeper, sweepExpired } from '../../src/store/sweep.ts';
import { message, silentLogger, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const tempDb = () => path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-sweep-')), 'bot.sqlite');

/** Keys actually in the file (Keyv would hide expired ones; the table does not). */
async function keysOnDisk(store: Store, family = ''): Promise<string[]> {
  const rows = (await sqliteOf(store)?.query(
    `SELECT key FROM ${SQLITE_TABLE} WHERE key LIKE ? ORDER BY key`,
    `%${family}%`,
  )) as Array<{ key: string }>;
  return rows.map((r) => r.key);
}

const opened: Store[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of opened.splice(0)) await closeStore(s).catch(() => undefined);
});

describe('sweeping expired rows on SQLite', () => {
  it('deletes rows whose expiry has passed, of any family, and keeps the rest', async () => {
    const store = await createStore(`sqlite://${tempDb()}`);
    opened.push(store);
    await store.set('dedupe:v1:m1', 1, 10 * MINUTE);
    await store.set('hist:v1:c1', { turns: [] }, 30 * DAY);
    await store.set('usage:v1:user:test:U1:2026-01-01', { answers: 1 }, 40 * DAY);
    await store.set('faq:v1:kept', 'no expiry');
    // Something Keyv did not write (not JSON) must not stop the sweep.
    await sqliteOf(store)?.query(`INSERT INTO ${SQLITE_TABLE} (key, value) VALUES (?, ?)`, 'raw:v1:x', 'x');
    expect(await keysOnDisk(store)).toHaveLength(5);

    expect(await sweepExpired(store, Date.now() + 11 * MINUTE)).toBe(1);
    expect(await keysOnDisk(store, 'dedupe')).toEqual([]);
    expect(await sweepExpired(store, Date.now() + 31 * DAY)).toBe(1);
    expect(await keysOnDisk(store)).toEqual(['faq:v1:kept', 'raw:v1:x', 'usage:v1:user:test:U1:2026-01-01']);
    expect(await sweepExpired(store, Date.now() + 41 * DAY)).toBe(1);
    expect(await keysOnDisk(store)).toEqual(['faq:v1:kept', 'raw:v1:x']);
  });

  it('walks every page of a large table', async () => {
    const store = await createStore(`sqlite://${tempDb()}`);
    opened.push(store);
    await store.setMany(
      Array.from({ length: 4_321 }, (_, i) => ({ key: `dedupe:v1:${i}`, value: 1, ttl: MINUTE })),
    );
    expect(await sweepExpired(store, Date.now() + 2 * MINUTE)).toBe(4_321);
    expect(await keysOnDisk(store)).toEqual([]);
  });

  it('runs again every interval while the bot runs', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const store = await createStore(`sqlite://${tempDb()}`);
    opened.push(store);
    let now = Date.now();
    const sweeper = startSweeper(store, { intervalMs: 5 * MINUTE, log: silentLogger(), now: () => now });
    await store.set('dedupe:v1:a', 1, MINUTE);
    now += 2 * MINUTE;
    await vi.advanceTimersByTimeAsync(5 * MINUTE);
    await sweeper.stop();
    expect(await keysOnDisk(store)).toEqual([]);
  });

  it('the dedupe ids of answered messages do not pile up: start-up removes the expired ones', async () => {
    const file = tempDb();
    const h = await startHarness({
      storeUrl: `sqlite://${file}`,
      config: { guards: { dedupeSeconds: 600 } },
    });
    for (const id of ['1', '2', '3'])
      await h.app.service.handleMessage(message(`hello ${id}`, { id }), new RecordingSurface());
    expect(await keysOnDisk(h.app.store, 'dedupe')).toHaveLength(3);
    await h.close();

    // Eleven minutes later the bot starts again.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 11 * MINUTE);
    const again = await startHarness({ storeUrl: `sqlite://${file}` });
    try {
      expect(await keysOnDisk(again.app.store, 'dedupe')).toEqual([]);
      expect((await again.app.service.history.load('test:W1:C1')).length).toBe(6);
    } finally {
      await again.close();
    }
  });
});
