import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeStore, createStore, sqliteOf, walCheckpointerOf } from '../../src/store/index.ts';
import { CHECKPOINT_INTERVAL_MS } from '../../src/store/sqlite-checkpoint.ts';

afterEach(() => {
  vi.useRealTimers();
});

const tempFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-wal-')), 'w.sqlite');
const size = (f: string) => statSync(f).size;
/** 300 rows of ~5 KB: two pages each, so two fills pass SQLite's default auto-checkpoint of 1,000 pages. */
const fill = async (store: Awaited<ReturnType<typeof createStore>>, from = 0) => {
  for (let i = from; i < from + 300; i++) await store.set(`row:${i}`, `${i} ${'x'.repeat(5000)}`);
};

describe('SQLite WAL checkpoints', () => {
  it("never run on the bot's own connection: its commits only append to the log", async () => {
    const file = tempFile();
    const store = await createStore(`sqlite://${file}`);
    const sqlite = sqliteOf(store);
    if (!sqlite) throw new Error('not a SQLite store');
    const [row] = (await sqlite.query('PRAGMA wal_autocheckpoint')) as Array<Record<string, number>>;
    expect(Object.values(row ?? {})[0]).toBe(0);
    await walCheckpointerOf(store)?.close(); // no side checkpoints either, for this check
    const before = size(file);
    await fill(store);
    await fill(store, 300);
    // Everything went to the log; the database file was not touched by any commit.
    expect(size(file)).toBe(before);
    expect(size(`${file}-wal`)).toBeGreaterThan(3_000_000);
    await closeStore(store);
  });

  it('run every second on a second connection, and the rows are in the database file afterwards', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const file = tempFile();
    const store = await createStore(`sqlite://${file}`);
    const before = size(file);
    await fill(store);
    expect(size(file)).toBe(before);
    await vi.advanceTimersByTimeAsync(CHECKPOINT_INTERVAL_MS);
    await walCheckpointerOf(store)?.checkpoint(); // waits for the one the timer started
    expect(size(file)).toBeGreaterThan(before + 1_000_000);
    expect(await store.get('row:299')).toMatch(/^299 x/);
    await closeStore(store);
  });

  it('are skipped while the bot does not use the store', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const store = await createStore(`sqlite://${tempFile()}`);
    const checkpointer = walCheckpointerOf(store);
    await store.set('row:a', 'a');
    await vi.advanceTimersByTimeAsync(CHECKPOINT_INTERVAL_MS);
    await checkpointer?.checkpoint();
    const afterUse = checkpointer?.runs ?? 0;
    expect(afterUse).toBeGreaterThanOrEqual(1);
    // Three quiet seconds: no checkpoint.
    await vi.advanceTimersByTimeAsync(3 * CHECKPOINT_INTERVAL_MS);
    expect(checkpointer?.runs).toBe(afterUse);
    await store.set('row:b', 'b');
    await vi.advanceTimersByTimeAsync(CHECKPOINT_INTERVAL_MS);
    expect(checkpointer?.runs).toBe(afterUse + 1);
    await closeStore(store);
  });

  it('a clean stop still truncates the log and keeps every row', async () => {
    const file = tempFile();
    const store = await createStore(`sqlite://${file}`);
    await fill(store);
    await closeStore(store);
    // SQLite deletes the log when its last connection closes (an empty one would do as well).
    expect(existsSync(`${file}-wal`) ? size(`${file}-wal`) : 0).toBe(0);
    const again = await createStore(`sqlite://${file}`);
    expect(await again.get('row:0')).toMatch(/^0 x/);
    expect(await again.get('row:299')).toMatch(/^299 x/);
    await closeStore(again);
  });
});
