import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalCoordinator } from '../../src/store/coordination.ts';
import { closeStore, createStore } from '../../src/store/index.ts';
import { watchStoreTraffic } from '../support/store-traffic.ts';

afterEach(() => {
  vi.useRealTimers();
});

const tempFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-batch-')), 'b.sqlite');

describe('SQLite store batches', () => {
  it('a batch of writes is one statement; deletes are one statement each and report what they found', async () => {
    const store = await createStore('sqlite://:memory:');
    const { traffic, reset } = watchStoreTraffic(store);
    await store.setMany([
      { key: 'a', value: { text: 'it’s "quoted"\n' }, ttl: 60_000 },
      { key: 'b', value: [1, 2] },
      { key: 'c', value: 'plain' },
    ]);
    expect(traffic.roundTrips).toBe(1);
    expect(await store.getMany(['a', 'b', 'c', 'missing'])).toEqual([
      { text: 'it’s "quoted"\n' },
      [1, 2],
      'plain',
      undefined,
    ]);
    // Writing again overwrites.
    await store.setMany([{ key: 'b', value: [3] }]);
    expect(await store.get('b')).toEqual([3]);
    reset();
    expect(await store.delete('c')).toBe(true);
    expect(await store.delete('c')).toBe(false);
    expect(await store.deleteMany(['a', 'b', 'nothing'])).toBe(true);
    expect(await store.deleteMany(['a'])).toBe(false);
    expect(traffic.roundTrips).toBe(4);
    expect(await store.getMany(['a', 'b', 'c'])).toEqual([undefined, undefined, undefined]);
    await closeStore(store);
  });

  it('an expired row written in a batch reads as gone', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T10:00:00Z'));
    const store = await createStore('sqlite://:memory:');
    await store.setMany([
      { key: 'short', value: 1, ttl: 1000 },
      { key: 'long', value: 2, ttl: 60_000 },
    ]);
    vi.setSystemTime(new Date('2026-12-01T10:00:02Z'));
    expect(await store.getMany(['short', 'long'])).toEqual([undefined, 2]);
    await closeStore(store);
  });

  it('a message id is claimed once in one statement, also across a restart, and again once its window ends', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T10:00:00Z'));
    const file = tempFile();
    const store = await createStore(`sqlite://${file}`);
    const first = new LocalCoordinator(store);
    const { traffic } = watchStoreTraffic(store);
    expect(await first.claim('test:msg:1', 60_000)).toBe(true);
    expect(traffic.roundTrips).toBe(1);
    expect(await first.claim('test:msg:1', 60_000)).toBe(false);
    await closeStore(store);

    // A platform redelivering after a restart: the new process refuses it too.
    const reopened = await createStore(`sqlite://${file}`);
    const second = new LocalCoordinator(reopened);
    expect(await second.claim('test:msg:1', 60_000)).toBe(false);
    expect(await second.claim('test:msg:2', 60_000)).toBe(true);
    vi.setSystemTime(new Date('2026-12-01T10:01:01Z'));
    const third = new LocalCoordinator(reopened);
    expect(await third.claim('test:msg:1', 60_000)).toBe(true);
    expect(await third.claim('test:msg:1', 60_000)).toBe(false);
    await closeStore(reopened);
  });
});
