import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeStore, createStore, sqliteOf } from '../../src/store/index.ts';

const tempFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-statements-')), 's.sqlite');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SQLite statements', () => {
  it('are prepared once and kept: a hundred reads and writes of one key finalize none', async () => {
    const store = await createStore(`sqlite://${tempFile()}`);
    const finalized = vi.spyOn(sqlite3.Statement.prototype, 'finalize');
    for (let i = 0; i < 50; i++) {
      await store.set('conversation', { turn: i });
      expect(await store.get('conversation')).toEqual({ turn: i });
    }
    // Before: Database#all prepared, ran and finalized a statement for every one of the 100 queries.
    expect(finalized).not.toHaveBeenCalled();
    await closeStore(store);
  });

  it('report SQL that does not prepare with SQLite’s own error, and the connection goes on working', async () => {
    const store = await createStore('sqlite://:memory:');
    const sqlite = sqliteOf(store);
    await expect(sqlite?.query('SELECT nonsense FROM nowhere')).rejects.toThrow(/no such table: nowhere/);
    await expect(sqlite?.query('SELECT nonsense FROM nowhere')).rejects.toThrow(/no such table: nowhere/);
    await store.set('k', 'v');
    expect(await store.get('k')).toBe('v');
    await closeStore(store);
  });

  it('keep what a :memory: store holds on its one connection', async () => {
    const store = await createStore('sqlite://:memory:');
    await store.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    expect(await store.getMany(['a', 'b'])).toEqual([1, 2]);
    await closeStore(store);
  });

  it('run many queries at once on one statement and give each its own rows', async () => {
    const file = tempFile();
    const store = await createStore(`sqlite://${file}`);
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.set(`k${i}`, `v${i}`)));
    const values = await Promise.all(Array.from({ length: 100 }, (_, i) => store.get(`k${i}`)));
    expect(values).toEqual(Array.from({ length: 100 }, (_, i) => `v${i}`));
    await closeStore(store);
    const again = await createStore(`sqlite://${file}`);
    expect(await again.get('k42')).toBe('v42');
    await closeStore(again);
  });
});
