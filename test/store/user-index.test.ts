import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserIndexStore } from '../../src/core/privacy.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { channelRef, type Harness, startHarness, TEST_API_KEY } from '../support/harness.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';
import { watchStoreTraffic } from '../support/store-traffic.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('user index tests: REDIS_URL is not set, skipping the Redis variants');
const runPrefix = `qwenbot-test-users-${process.pid}-${Date.now()}`;
const DAY = 86_400_000;

let sim: DashScopeSim;
const harnesses: Harness[] = [];

async function instance(storeUrl: string, namespace?: string): Promise<Harness> {
  const h = await startHarness({
    storeUrl,
    reuseSim: sim,
    namespace,
    config: { history: { retentionDays: 30 } },
  });
  harnesses.push(h);
  return h;
}

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
});

afterAll(async () => {
  for (const h of harnesses) await h.close().catch(() => undefined);
  await sim.close();
  if (!REDIS_URL) return;
  // Leave nothing behind on the shared Redis.
  await deleteRedisKeys(runPrefix, REDIS_URL);
});

const dm = channelRef('D1', { isDM: true });
const indexed = async (h: Harness, user = 'U1') =>
  Object.keys((await h.app.service.users.get('test', user)).conversations).sort();

const backends: Array<[string, string | undefined]> = [
  ['sqlite', 'sqlite://:memory:'],
  ['redis', REDIS_URL],
];

describe.each(backends)('the /forget index on %s', (name, url) => {
  it.skipIf(!url)('two conversations noting the same user at once both land', async () => {
    const h = await instance(url ?? '', `${runPrefix}-${name}-race`);
    const users = h.app.service.users;
    await Promise.all([
      users.note(channelRef('C1'), 'test:W1:C1', 'U1'),
      users.note(dm, 'test:W1:D1', 'U1'),
      users.note(channelRef('C2'), 'test:W1:C2', 'U1'),
    ]);
    expect(await indexed(h)).toEqual(['test:W1:C1', 'test:W1:C2', 'test:W1:D1']);
    expect((await users.get('test', 'U1')).conversations['test:W1:D1']).toEqual({ dm: true });
  });
});

describe.skipIf(!REDIS_URL)('the /forget index across two instances on one Redis', () => {
  it('notes from both instances at once both land', async () => {
    const ns = `${runPrefix}-two`;
    const [a, b] = [await instance(REDIS_URL ?? '', ns), await instance(REDIS_URL ?? '', ns)];
    await Promise.all([
      a.app.service.users.note(channelRef('C1'), 'test:W1:C1', 'U1'),
      b.app.service.users.note(channelRef('C2'), 'test:W1:C2', 'U1'),
    ]);
    expect(await indexed(a)).toEqual(['test:W1:C1', 'test:W1:C2']);
    expect(await indexed(b)).toEqual(['test:W1:C1', 'test:W1:C2']);
  });

  it('after instance B’s /forget drops the index, instance A’s next note writes again', async () => {
    const ns = `${runPrefix}-drop`;
    const [a, b] = [await instance(REDIS_URL ?? '', ns), await instance(REDIS_URL ?? '', ns)];
    await a.app.service.users.note(channelRef('C1'), 'test:W1:C1', 'U1');
    expect(await indexed(b)).toEqual(['test:W1:C1']);
    await b.app.service.users.drop('test', 'U1');
    expect(await indexed(a)).toEqual([]);
    // A noted C1 before: it must not believe the entry is still there.
    await a.app.service.users.note(channelRef('C1'), 'test:W1:C1', 'U1');
    expect(await indexed(b)).toEqual(['test:W1:C1']);
  });

  it('every note restarts the index’s lifetime', async () => {
    const ns = `${runPrefix}-ttl`;
    const a = await instance(REDIS_URL ?? '', ns);
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      await a.app.service.users.note(channelRef('C1'), 'test:W1:C1', 'U1');
      const key = `${ns}:coord:index:${UserIndexStore.key('test', 'U1')}`;
      const ttl = await redis.pTTL(key);
      expect(ttl).toBeGreaterThan(30 * DAY);
      expect(ttl).toBeLessThanOrEqual(31 * DAY);
      // As if 29 days had passed: the next turn in the same conversation gives it its full life back.
      await redis.pExpire(key, DAY);
      await a.app.service.users.note(channelRef('C1'), 'test:W1:C1', 'U1');
      expect(await redis.pTTL(key)).toBeGreaterThan(30 * DAY);
    } finally {
      await redis.close();
    }
  });
});

describe('the /forget index on SQLite over time', () => {
  it('lives as long as the user keeps talking, and expires after their last turn', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const h = await instance('sqlite://:memory:');
      const users = h.app.service.users;
      await users.note(channelRef('C1'), 'test:W1:C1', 'U1');
      vi.setSystemTime(Date.now() + 20 * DAY);
      await users.note(channelRef('C1'), 'test:W1:C1', 'U1');
      vi.setSystemTime(Date.now() + 20 * DAY);
      // 40 days after the first turn, 20 after the last one: still there.
      expect(await indexed(h)).toEqual(['test:W1:C1']);
      vi.setSystemTime(Date.now() + 12 * DAY);
      expect(await indexed(h)).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('an index written by an earlier version (users:v1)', () => {
  it('is still found by /forget and deleted with the new one', async () => {
    const h = await instance('sqlite://:memory:');
    await h.app.store.set(UserIndexStore.legacyKey('test', 'U1'), {
      conversations: { 'test:W1:D9': { dm: true } },
    });
    await h.app.service.users.note(channelRef('C1'), 'test:W1:C1', 'U1');
    expect((await h.app.service.users.get('test', 'U1')).conversations).toEqual({
      'test:W1:C1': { dm: false },
      'test:W1:D9': { dm: true },
    });
    await h.app.service.users.drop('test', 'U1');
    expect(await indexed(h)).toEqual([]);
    expect(await h.app.store.get(UserIndexStore.legacyKey('test', 'U1'))).toBeUndefined();
  });
});

describe('the /forget index on SQLite costs little per turn', () => {
  it('100 conversations of one user noted at once land in a few writes; a repeat note writes nothing', async () => {
    // No FAQ: its background indexing would write to the store while this counts.
    const h = await startHarness({ reuseSim: sim, config: { faq: { enabled: false } } });
    harnesses.push(h);
    const users = h.app.service.users;
    const { traffic, reset } = watchStoreTraffic(h.app.store);
    const conversations = Array.from({ length: 100 }, (_, i) => `test:W1:C${i}`);
    await Promise.all(conversations.map((c, i) => users.note(channelRef(`C${i}`), c, 'U1')));
    // One read-modify-write for every note that arrived while the previous write ran (main: 100 of them).
    expect(traffic.roundTrips).toBeLessThanOrEqual(4);
    expect(await indexed(h)).toEqual([...conversations].sort());
    reset();
    await users.note(channelRef('C7'), 'test:W1:C7', 'U1');
    expect(traffic.roundTrips).toBe(0);
  });

  it('a note made while /forget drops the index is kept, not skipped as already there', async () => {
    const h = await instance('sqlite://:memory:');
    const users = h.app.service.users;
    await users.note(channelRef('C1'), 'test:W1:C1', 'U1');
    const dropped = users.drop('test', 'U1');
    const noted = users.note(channelRef('C1'), 'test:W1:C1', 'U1');
    await Promise.all([dropped, noted]);
    expect(await indexed(h)).toEqual(['test:W1:C1']);
  });
});
