import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/core/history.ts';
import { SettingsStore } from '../../src/core/settings.ts';
import { createStore, redactUrl, type Store, StoreError } from '../../src/store/index.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('store tests: REDIS_URL is not set, skipping the Redis variants');

const runId = `qwenbot-test-${process.pid}-${Date.now()}`;
const backends: Array<[string, () => Promise<Store>]> = [
  [
    'sqlite',
    () =>
      createStore(
        `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-store-')), 'db', 'bot.sqlite')}`,
      ),
  ],
];
if (REDIS_URL) backends.push(['redis', () => createStore(REDIS_URL, { namespace: runId })]);

const opened: Store[] = [];
afterAll(async () => {
  for (const s of opened) {
    // Leave nothing behind: each Redis run uses its own namespace, cleared here.
    await s.clear();
    await s.disconnect();
  }
});

describe.each(backends)('store on %s', (_name, open) => {
  it('keeps history and settings under versioned keys, with expiry', async () => {
    const store = await open();
    opened.push(store);
    const history = new HistoryStore(store, { maxTurns: 3, retentionMs: 60_000 });
    for (const text of ['a', 'b', 'c', 'd'])
      await history.append('slack:T1:C1:1700000000.1', { role: 'user', text, at: 1 });
    expect((await history.load('slack:T1:C1:1700000000.1')).map((t) => t.text)).toEqual(['b', 'c', 'd']);
    expect(await history.load('slack:T1:C2')).toEqual([]);
    const settings = new SettingsStore(store);
    await settings.update('discord:G1:C1', { model: 'qwen-max' });
    await settings.update('discord:G1:C1', { systemPrompt: 'Be brief.' });
    expect(await settings.get('discord:G1:C1')).toEqual({ model: 'qwen-max', systemPrompt: 'Be brief.' });
    await store.set('ttl:v1:x', 1, 30);
    await new Promise((r) => setTimeout(r, 60));
    expect(await store.get('ttl:v1:x')).toBeUndefined();
    await history.clear('slack:T1:C1:1700000000.1');
    expect(await history.load('slack:T1:C1:1700000000.1')).toEqual([]);
  });
});

describe('store factory', () => {
  it('creates the SQLite folder and survives reopening', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-store-'));
    const url = `sqlite://${path.join(dir, 'nested', 'deeper', 'bot.sqlite')}`;
    const a = await createStore(url);
    await a.set('k', { v: 1 });
    await a.disconnect();
    const b = await createStore(url);
    expect(await b.get('k')).toEqual({ v: 1 });
    await b.disconnect();
  });

  it('rejects an unknown scheme with a message naming QWENBOT_STORE, and hides passwords', async () => {
    await expect(createStore('mongodb://u:pw@host/db')).rejects.toThrow(StoreError);
    await expect(createStore('mongodb://u:pw@host/db')).rejects.toThrow(
      /^QWENBOT_STORE: unsupported store URL "mongodb:\/\/u:\*\*\*@host\/db"/,
    );
    expect(redactUrl('redis://default:hunter2@127.0.0.1:6379')).toBe('redis://default:***@127.0.0.1:6379');
  });

  it('an unreachable Redis fails fast with a clear error', async () => {
    const err = await createStore('redis://127.0.0.1:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(
      /^QWENBOT_STORE: store redis:\/\/127\.0\.0\.1:1 is not reachable: no connection within 5 s; check/,
    );
  });
});
