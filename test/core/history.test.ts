import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { HistoryStore, type Turn } from '../../src/core/history.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { channelRef, message, startHarness, UNPACED_MODELS } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';
import { watchStoreTraffic } from '../support/store-traffic.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('history tests: REDIS_URL is not set, skipping the Redis variants');
const runId = `qwenbot-test-history-${process.pid}-${Date.now()}`;

const opened: Store[] = [];
afterAll(async () => {
  for (const s of opened) {
    // Each Redis run has its own namespace, cleared here; SQLite stores are in memory.
    await s.clear();
    await s.disconnect();
  }
});
afterEach(() => {
  vi.useRealTimers();
});

async function open(backend: 'sqlite' | 'redis'): Promise<Store> {
  const store =
    backend === 'sqlite'
      ? await createStore('sqlite://:memory:')
      : await createStore(REDIS_URL ?? '', { namespace: `${runId}-${opened.length}` });
  opened.push(store);
  return store;
}

/** Every key in the store, sorted (without the Redis namespace). */
async function keysOf(store: Store): Promise<string[]> {
  const adapter = store.store as {
    query?: (sql: string) => Promise<Array<{ key: string }>>;
    client?: { keys(pattern: string): Promise<string[]> };
    namespace?: string;
  };
  if (adapter.client) {
    const prefix = `${adapter.namespace}::`;
    return (await adapter.client.keys(`${prefix}*`)).map((k) => k.slice(prefix.length)).sort();
  }
  const rows = (await adapter.query?.('SELECT key FROM qwenbot')) ?? [];
  return rows.map((r) => r.key).sort();
}

const CONV = 'slack:T1:C1:1700000000.1';
const user = (text: string, authorId = 'U1', at = 1): Turn => ({
  role: 'user',
  text,
  at,
  authorId,
  author: 'A',
});
const bot = (text: string, at = 1): Turn => ({
  role: 'assistant',
  text,
  at,
  model: 'qwen-plus',
  status: 'complete',
});

const backends: Array<'sqlite' | 'redis'> = REDIS_URL ? ['sqlite', 'redis'] : ['sqlite'];

describe.each(backends)('history on %s', (backend) => {
  it('storing a turn writes only that turn: the 500th append costs what the 1st did', async () => {
    const store = await open(backend);
    const history = new HistoryStore(store, { maxTurns: 1000, retentionMs: 60_000 });
    const { traffic, reset } = watchStoreTraffic(store);
    const text = 'x'.repeat(400);
    const perAppend: Array<{ roundTrips: number; bytesWritten: number }> = [];
    for (let i = 0; i < 500; i++) {
      reset();
      await history.append(CONV, user(text, 'U1', i));
      perAppend.push({ ...traffic });
    }
    const first = perAppend[0];
    const last = perAppend[499];
    // Only the sequence numbers (turn key, meta) grow, by a few digits.
    expect(last?.bytesWritten).toBeLessThanOrEqual((first?.bytesWritten ?? 0) + 8);
    // The first append also looks for a v1 blob to migrate; every later one makes the same trips.
    expect(new Set(perAppend.slice(1).map((t) => t.roundTrips)).size).toBe(1);
    expect(last?.roundTrips).toBeLessThanOrEqual(first?.roundTrips ?? 0);
    expect(first?.bytesWritten).toBeLessThan(700);

    reset();
    const getMany = vi.spyOn(store, 'getMany');
    const get = vi.spyOn(store, 'get');
    const turns = await history.load(CONV);
    expect(turns).toHaveLength(500);
    expect(turns.map((t) => t.at)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // One meta read and one batched read of the turns.
    expect(get).toHaveBeenCalledTimes(1);
    expect(getMany).toHaveBeenCalledTimes(1);
    expect(traffic.roundTrips).toBe(2);
    expect(traffic.bytesWritten).toBe(0);
  });

  it('is capped at maxTurns: the turn that falls off is deleted, the others stay', async () => {
    const store = await open(backend);
    const history = new HistoryStore(store, { maxTurns: 3, retentionMs: 60_000 });
    for (const text of ['a', 'b', 'c', 'd', 'e']) await history.append(CONV, user(text));
    expect((await history.load(CONV)).map((t) => t.text)).toEqual(['c', 'd', 'e']);
    expect(await keysOf(store)).toEqual([
      `hist:v2:meta:${CONV}`,
      `hist:v2:turn:${CONV}:2`,
      `hist:v2:turn:${CONV}:3`,
      `hist:v2:turn:${CONV}:4`,
    ]);
    expect(await history.load('slack:T1:C2')).toEqual([]);
  });

  it("removeUser drops the user's turns and the answers to them, and keeps everyone else's", async () => {
    const store = await open(backend);
    const history = new HistoryStore(store, { maxTurns: 100, retentionMs: 60_000 });
    for (const turn of [bot('hello'), user('mine', 'U1'), bot('to U1'), user('theirs', 'U2'), bot('to U2')])
      await history.append(CONV, turn);
    await history.append(CONV, user('mine again', 'U1'));
    await history.append(CONV, bot('to U1 again'));

    expect(await history.removeUser(CONV, 'U1')).toBe(4);
    expect((await history.load(CONV)).map((t) => t.text)).toEqual(['hello', 'theirs', 'to U2']);
    expect(await keysOf(store)).toEqual([
      `hist:v2:meta:${CONV}`,
      `hist:v2:turn:${CONV}:0`,
      `hist:v2:turn:${CONV}:3`,
      `hist:v2:turn:${CONV}:4`,
    ]);
    // The conversation goes on after the gap.
    await history.append(CONV, user('next', 'U2'));
    expect((await history.load(CONV)).map((t) => t.text)).toEqual(['hello', 'theirs', 'to U2', 'next']);
    expect(await history.removeUser(CONV, 'U9')).toBe(0);
  });

  it('removeUser of the only speaker, and clear, leave no key of the conversation behind', async () => {
    const store = await open(backend);
    const history = new HistoryStore(store, { maxTurns: 3, retentionMs: 60_000 });
    const thread = `${CONV}:9`;
    await history.append(thread, user('in a thread whose key starts like ours'));
    for (const text of ['a', 'b', 'c', 'd']) await history.append(CONV, user(text, 'U1'));
    expect(await history.removeUser(CONV, 'U1')).toBe(3);
    expect(await keysOf(store)).toEqual([`hist:v2:meta:${thread}`, `hist:v2:turn:${thread}:0`]);

    for (const text of ['a', 'b', 'c', 'd', 'e']) await history.append(CONV, user(text, 'U2'));
    await history.clear(CONV);
    expect(await history.load(CONV)).toEqual([]);
    expect(await keysOf(store)).toEqual([`hist:v2:meta:${thread}`, `hist:v2:turn:${thread}:0`]);
    expect((await history.load(thread)).map((t) => t.text)).toEqual([
      'in a thread whose key starts like ours',
    ]);
  });

  it('answers fill the slots their questions reserved, in any order; never a slot of a later conversation', async () => {
    const store = await open(backend);
    const history = new HistoryStore(store, { maxTurns: 100, retentionMs: 60_000 });
    const first = (await history.appendQuestion(CONV, user('first', 'U1'))).slot;
    const second = (await history.appendQuestion(CONV, user('second', 'U2'))).slot;
    // The second question's prompt holds both questions, the first still unanswered.
    expect((await history.load(CONV, second)).map((t) => t.text)).toEqual(['first', 'second']);
    const third = await history.appendQuestion(CONV, user('third', 'U3'));
    expect((await history.load(CONV, third.slot, third.meta)).map((t) => t.text)).toEqual([
      'first',
      'second',
      'third',
    ]);
    await history.removeUser(CONV, 'U3');
    expect((await history.load(CONV, first)).map((t) => t.text)).toEqual(['first']);
    expect(await history.storeAnswer(CONV, second, bot('to U2'))).toBe(true);
    expect(await history.storeAnswer(CONV, first, bot('to U1'))).toBe(true);
    expect((await history.load(CONV)).map((t) => t.text)).toEqual(['first', 'to U1', 'second', 'to U2']);

    // Forgotten question: its answer is not stored after it. Reset: nor in the next conversation.
    const forgotten = (await history.appendQuestion(CONV, user('forget me', 'U3'))).slot;
    await history.removeUser(CONV, 'U3');
    expect(await history.storeAnswer(CONV, forgotten, bot('to U3'))).toBe(false);
    const asked = await history.appendQuestion(CONV, user('before reset', 'U1'));
    const beforeReset = asked.slot;
    await history.clear(CONV);
    const afterReset = (await history.appendQuestion(CONV, user('after reset', 'U2'))).slot;
    expect(afterReset.seq).toBe(1);
    expect(await history.storeAnswer(CONV, beforeReset, bot('old answer'))).toBe(false);
    expect(await history.load(CONV, beforeReset)).toEqual([]);
    // Read with the meta known from the question (one batch): the new conversation's turns sit in the
    // same sequence numbers, and still none of them reaches the old question's prompt.
    expect(await history.load(CONV, beforeReset, asked.meta)).toEqual([]);
    expect(await history.storeAnswer(CONV, afterReset, bot('new answer'))).toBe(true);
    expect((await history.load(CONV)).map((t) => t.text)).toEqual(['after reset', 'new answer']);
    // /reset with nothing after it: the old answer leaves no key behind.
    await history.clear(CONV);
    expect(await history.storeAnswer(CONV, afterReset, bot('late'))).toBe(false);
    expect((await keysOf(store)).filter((k) => k.includes(CONV))).toEqual([]);
  });

  it('reads around turn keys that are gone', async () => {
    const store = await open(backend);
    const history = new HistoryStore(store, { maxTurns: 10, retentionMs: 60_000 });
    for (const text of ['a', 'b', 'c']) await history.append(CONV, user(text));
    await store.delete(HistoryStore.turnKey(CONV, 1));
    expect((await history.load(CONV)).map((t) => t.text)).toEqual(['a', 'c']);
  });

  it('migrates a v1 conversation on first touch, keeping its remaining lifetime', async () => {
    const store = await open(backend);
    const history = new HistoryStore(store, { maxTurns: 3, retentionMs: 60_000 });
    const v1 = { turns: [user('one'), bot('two'), user('three'), bot('four')] };
    await store.set(HistoryStore.v1Key(CONV), v1, 30_000);
    const expiresV1 = (await store.getRaw(HistoryStore.v1Key(CONV)))?.expires ?? 0;

    expect((await history.load(CONV)).map((t) => t.text)).toEqual(['two', 'three', 'four']);
    expect(await store.get(HistoryStore.v1Key(CONV))).toBeUndefined();
    const migrated = await store.getRaw(HistoryStore.turnKey(CONV, 0));
    expect(migrated?.value).toEqual(bot('two'));
    expect(migrated?.expires).toBeLessThanOrEqual(expiresV1 + 5);

    await history.append(CONV, user('five'));
    expect((await history.load(CONV)).map((t) => t.text)).toEqual(['three', 'four', 'five']);

    // A v1 conversation nobody wrote to since: /reset and /forget reach it too.
    const other = 'discord:G1:C7';
    await store.set(HistoryStore.v1Key(other), { turns: [user('old', 'U3'), bot('reply')] }, 30_000);
    expect(await history.removeUser(other, 'U3')).toBe(2);
    await store.set(HistoryStore.v1Key(other), { turns: [user('old', 'U3')] }, 30_000);
    await history.clear(other);
    expect((await keysOf(store)).filter((k) => k.includes(other))).toEqual([]);
  });
});

describe('a v1 blob next to v2 data (an older instance on the same store)', () => {
  it('/forget removes the user from both; /reset deletes both', async () => {
    const store = await open('sqlite');
    const history = new HistoryStore(store, { maxTurns: 10, retentionMs: 60_000 });
    await history.append(CONV, user('new words', 'U1'));
    await store.set(
      HistoryStore.v1Key(CONV),
      { turns: [user('old words', 'U1'), bot('r'), user('keep', 'U2')] },
      30_000,
    );
    expect(await history.removeUser(CONV, 'U1')).toBe(3);
    expect((await store.get<{ turns: Turn[] }>(HistoryStore.v1Key(CONV)))?.turns.map((t) => t.text)).toEqual([
      'keep',
    ]);
    await history.clear(CONV);
    expect(await keysOf(store)).toEqual([]);
  });
});

describe('history expiry', () => {
  it('writes every key with the retention, refreshes the meta on append, and skips expired turns', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 });
    const store = await open('sqlite');
    const history = new HistoryStore(store, { maxTurns: 10, retentionMs: 60_000 });
    await history.append(CONV, user('early'));
    vi.setSystemTime(1_030_000);
    await history.append(CONV, user('later'));

    expect((await store.getRaw(HistoryStore.turnKey(CONV, 0)))?.expires).toBe(1_060_000);
    expect((await store.getRaw(HistoryStore.turnKey(CONV, 1)))?.expires).toBe(1_090_000);
    expect((await store.getRaw(HistoryStore.metaKey(CONV)))?.expires).toBe(1_090_000);

    vi.setSystemTime(1_070_000);
    expect((await history.load(CONV)).map((t) => t.text)).toEqual(['later']);
    vi.setSystemTime(1_100_000);
    expect(await history.load(CONV)).toEqual([]);
  });
});

describe('an answer in a long conversation', () => {
  it('writes and reads the store as much as an answer in a new one', async () => {
    // No FAQ: its index (about 180 KB of vectors) is written in the background at start and, on a
    // loaded machine, landed inside the measured answer. No explicit context cache: only the long
    // prompt would reach its minimum, and its cache-write figures would be the one difference.
    const h = await startHarness({
      config: {
        history: { maxTurns: 1000 },
        faq: { enabled: false },
        models: { 'qwen-plus': { ...UNPACED_MODELS['qwen-plus'], cache: 'implicit' } },
      },
    });
    try {
      const long = channelRef('C2');
      for (let n = 0; n < 300; n++)
        await h.app.service.history.append(
          'test:W1:C2',
          n % 2 ? bot('y'.repeat(1000)) : user('x'.repeat(1000)),
        );
      await h.app.service.handleMessage(
        message('warm-up', { conversation: channelRef('C3') }),
        new RecordingSurface(),
      );
      // Crash-repair records follow how many edits landed, which is timing: not what this compares.
      const { traffic, reset } = watchStoreTraffic(h.app.store, { ignore: 'inflight:' });
      const cost = async (conversation: ReturnType<typeof channelRef>) => {
        reset();
        const surface = new RecordingSurface();
        expect((await h.app.service.handleMessage(message('hello', { conversation }), surface)).status).toBe(
          'answered',
        );
        return { ...traffic, shown: surface.shown().at(-1) };
      };
      // A short conversation (one exchange), not a new one: a new one's prompt needs no read at all.
      await h.app.service.history.append('test:W1:C1', user('x'));
      await h.app.service.history.append('test:W1:C1', bot('y'));
      const fresh = await cost(channelRef('C1'));
      const grown = await cost(long);
      expect(grown.shown).toBe(fresh.shown);
      expect(grown.roundTrips).toBeLessThanOrEqual(fresh.roundTrips);
      // Only numbers grow: sequence numbers, and the larger prompt's token counts in usage records.
      expect(grown.bytesWritten).toBeLessThanOrEqual(fresh.bytesWritten + 100);
      expect(await h.app.service.history.load('test:W1:C2')).toHaveLength(302);
    } finally {
      await h.close();
    }
  });
});
