import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeStore, createStore } from '../../src/store/index.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';

const DAY = 86_400_000;
const REDIS_URL = process.env.REDIS_URL;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  vi.useRealTimers();
});

/** What an earlier version left: settings and all-time totals with no expiry, a daily bucket with one. */
async function writeAsBefore(url: string, namespace?: string): Promise<void> {
  const store = await createStore(url, { namespace });
  await store.set('settings:v1:test:W1:C1', { systemPrompt: 'Be brief.' });
  await store.set('settings:v1:test:W1', { model: 'qwen-plus' });
  await store.set('usage:v1:user:test:U1:all', { answers: 7 });
  await store.set('usage:v1:user:test:U1:2026-01-01', { answers: 1 }, 40 * DAY);
  await closeStore(store);
}

describe('rows written without an expiry by an earlier version (SQLite)', () => {
  it('get one at the next start: conversation settings and all-time totals, not workspace defaults', async () => {
    const url = `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-legacy-')), 'bot.sqlite')}`;
    await writeAsBefore(url);
    vi.useFakeTimers({ toFake: ['Date'] });
    const started = Date.now();
    h = await startHarness({ storeUrl: url });
    const expiryOf = async (key: string) => (await h?.app.store.get(key, { raw: true }))?.expires;
    expect(await expiryOf('settings:v1:test:W1:C1')).toBe(started + 365 * DAY);
    expect(await expiryOf('settings:v1:test:W1')).toBeUndefined();
    expect(await expiryOf('usage:v1:user:test:U1:all')).toBe(started + 400 * DAY);
    expect(await expiryOf('usage:v1:user:test:U1:2026-01-01')).toBeLessThan(started + 40 * DAY + 1);

    expect(await h.app.service.settings.get('test:W1:C1')).toEqual({ systemPrompt: 'Be brief.' });
    vi.setSystemTime(started + 366 * DAY);
    expect(await h.app.service.settings.get('test:W1:C1')).toEqual({});
    expect(await h.app.service.settings.get('test:W1')).toEqual({ model: 'qwen-plus' });
  });
});

describe.skipIf(!REDIS_URL)('rows written without an expiry by an earlier version (Redis)', () => {
  it('get one at the next start, in the store and among the shared counters', async () => {
    const ns = `qwenbot-test-legacy-${process.pid}-${Date.now()}`;
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      await writeAsBefore(REDIS_URL ?? '', ns);
      await redis.hIncrBy(`${ns}:coord:count:usage:v1:user:test:U1:all`, 'answers', 3);
      h = await startHarness({ storeUrl: REDIS_URL, namespace: ns });
      const ttl = (key: string) => redis.pTTL(key);
      expect(await ttl(`${ns}::settings:v1:test:W1:C1`)).toBeGreaterThan(364 * DAY);
      expect(await ttl(`${ns}::settings:v1:test:W1`)).toBe(-1);
      expect(await ttl(`${ns}:coord:count:usage:v1:user:test:U1:all`)).toBeGreaterThan(399 * DAY);
      expect(await ttl(`${ns}::usage:v1:user:test:U1:all`)).toBeGreaterThan(399 * DAY);
      expect(await ttl(`${ns}::usage:v1:user:test:U1:2026-01-01`)).toBeLessThanOrEqual(40 * DAY);
      expect(await h.app.service.settings.get('test:W1:C1')).toEqual({ systemPrompt: 'Be brief.' });
    } finally {
      await h?.close();
      h = undefined;
      await deleteRedisKeys(ns, REDIS_URL ?? '');
      await redis.close();
    }
  });
});
