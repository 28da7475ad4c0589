import { createClient } from '@redis/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Author } from '../../src/core/types.ts';
import { channelRef, type Harness, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';

const DAY = 86_400_000;
const alice: Author = { id: 'U1', name: 'Alice', isBot: false };
const dm = channelRef('D1', { isDM: true });

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  vi.useRealTimers();
});

/** Moves the wall clock (what Keyv's expiry reads) forward; timers keep running normally. */
function daysLater(days: number): void {
  vi.setSystemTime(Date.now() + days * DAY);
}

async function start(config: Record<string, unknown> = {}): Promise<Harness> {
  vi.useFakeTimers({ toFake: ['Date'] });
  h = await startHarness({ config });
  return h;
}

describe('settings expire after their last change', () => {
  it('a conversation’s /system is forgotten settingsRetentionDays after its last change', async () => {
    const s = (await start({ store: { settingsRetentionDays: 100 } })).app.service;
    await s.runCommand({ name: 'system', rawArgs: 'Call me Captain.', author: alice, conversation: dm });
    expect(await s.settings.get('test:W1:D1')).toEqual({ systemPrompt: 'Call me Captain.' });
    daysLater(60);
    await s.runCommand({ name: 'system', rawArgs: 'Call me Admiral.', author: alice, conversation: dm });
    daysLater(60);
    // 120 days after the first /system, 60 after the last change: still there.
    expect(await s.settings.get('test:W1:D1')).toEqual({ systemPrompt: 'Call me Admiral.' });
    daysLater(41);
    expect(await s.settings.get('test:W1:D1')).toEqual({});
  });

  it('workspace defaults set by an admin are kept until changed', async () => {
    const s = (await start({ store: { settingsRetentionDays: 100 } })).app.service;
    await s.settings.update('test:W1', { model: 'qwen-plus' });
    daysLater(1_000);
    expect(await s.settings.get('test:W1')).toEqual({ model: 'qwen-plus' });
  });
});

describe('all-time usage totals expire after a long silence', () => {
  const allAnswers = async (harness: Harness) =>
    (await harness.app.service.usage.totals({ kind: 'user', platform: 'test', id: 'U1' })).all.answers;

  it('each answer restarts their lifetime; usage.totalsRetentionDays after the last one they are gone', async () => {
    const harness = await start({ usage: { totalsRetentionDays: 400 } });
    const s = harness.app.service;
    await s.handleMessage(message('first', { author: alice }), new RecordingSurface());
    daysLater(300);
    await s.handleMessage(message('second', { author: alice }), new RecordingSurface());
    daysLater(200);
    // 500 days after the first answer, 200 after the last.
    expect(await allAnswers(harness)).toBe(2);
    daysLater(201);
    expect(await allAnswers(harness)).toBe(0);
  });
});

const REDIS_URL = process.env.REDIS_URL;

describe.skipIf(!REDIS_URL)('the same lifetimes on Redis', () => {
  it('settings and all-time totals carry their expiry; workspace defaults none', async () => {
    const ns = `qwenbot-test-retention-${process.pid}-${Date.now()}`;
    h = await startHarness({ storeUrl: REDIS_URL, namespace: ns });
    const s = h.app.service;
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      await s.runCommand({ name: 'system', rawArgs: 'Call me Captain.', author: alice, conversation: dm });
      await s.settings.update('test:W1', { model: 'qwen-plus' });
      await s.handleMessage(message('hello', { author: alice }), new RecordingSurface());
      const settingsTtl = await redis.pTTL(`${ns}::settings:v1:test:W1:D1`);
      expect(settingsTtl).toBeGreaterThan(364 * DAY);
      expect(settingsTtl).toBeLessThanOrEqual(365 * DAY);
      expect(await redis.pTTL(`${ns}::settings:v1:test:W1`)).toBe(-1);
      const totalsTtl = await redis.pTTL(`${ns}:coord:count:usage:v1:user:test:U1:all`);
      expect(totalsTtl).toBeGreaterThan(399 * DAY);
      expect(totalsTtl).toBeLessThanOrEqual(400 * DAY);
    } finally {
      await deleteRedisKeys(ns, REDIS_URL ?? '');
      await redis.close();
    }
  });
});
