import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RedisCoordinator } from '../../src/store/coordination.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { type Harness, message, startHarness, TEST_API_KEY } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';
import { watchRedisCommands, watchStoreTraffic } from '../support/store-traffic.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('turn cost tests: REDIS_URL is not set, skipping the Redis variant');
const runPrefix = `qwenbot-test-turncost-${process.pid}-${Date.now()}`;

let sim: DashScopeSim;
const harnesses: Harness[] = [];

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
});

afterAll(async () => {
  for (const h of harnesses) await h.close().catch(() => undefined);
  await sim.close();
  if (REDIS_URL) await deleteRedisKeys(runPrefix, REDIS_URL);
});

const ref = { platform: 'test', workspace: 'W1', channel: 'C1', isDM: false };

interface TurnTraffic {
  /** Store trips other than the crash-repair records, before the model call and after it. */
  before: number;
  after: number;
  /** Store trips of the crash-repair (in-flight) records, whose writes follow the edits that landed. */
  inflight: number;
  /** Posts and edits that landed on the surface. */
  shown: number;
  /** Redis coordination commands other than the conversation's cross-instance line. */
  coordination: number;
  text: string;
}

/**
 * One answer turn in a conversation that already had one (or, with `first`, the first turn of a new
 * conversation), counted from the message to its last write.
 */
async function answerTurn(h: Harness, first = false): Promise<TurnTraffic> {
  const { app } = h;
  if (!first) {
    await app.service.handleMessage(
      message('warm-up question', { conversation: ref }),
      new RecordingSurface(),
    );
    await app.service.queue.idle();
    await app.service.inflight.flush();
  }
  const all = watchStoreTraffic(app.store);
  const other = watchStoreTraffic(app.store, { ignore: 'inflight:' });
  const redis = app.coordinator.shared
    ? watchRedisCommands(app.coordinator as RedisCoordinator, { only: ':coord:', ignore: ':coord:turn:' })
    : undefined;
  let beforeModel: number | undefined;
  const streamChat = app.qwen.streamChat.bind(app.qwen);
  app.qwen.streamChat = (req) => {
    beforeModel ??= other.traffic.roundTrips;
    return streamChat(req);
  };
  const surface = new RecordingSurface();
  const outcome = await app.service.handleMessage(message('the question', { conversation: ref }), surface);
  await app.service.queue.idle();
  await app.service.inflight.flush();
  app.qwen.streamChat = streamChat;
  expect(outcome.status).toBe('answered');
  const before = beforeModel ?? Number.NaN;
  return {
    before,
    after: other.traffic.roundTrips - before,
    inflight: all.traffic.roundTrips - other.traffic.roundTrips,
    shown: surface.events.filter((e) => e.kind === 'post' || e.kind === 'edit').length,
    coordination: redis?.count() ?? 0,
    text: [...surface.messages.values()].join(''),
  };
}

describe('store round trips of one answer turn', () => {
  it('SQLite: one batched read and the user turn before the model call, usage and the answer after', async () => {
    const h = await startHarness({ reuseSim: sim, config: { faq: { enabled: false } } });
    harnesses.push(h);
    const cost = await answerTurn(h);
    // main: 7 before (dedupe get + set, meta read, turn + meta written one by one, meta read again,
    // the prompt's turns) and 15 after (six usage counters read and written one by one, meta read,
    // turn + meta).
    expect(cost.before).toBeLessThanOrEqual(4); // dedupe claim, settings + meta, user turn, prompt's turns
    expect(cost.after).toBeLessThanOrEqual(3); // usage counters, meta, answer turn
    // Crash repair: at most one write per landed post or edit, the instance's index, and their deletion.
    expect(cost.inflight).toBeLessThanOrEqual(cost.shown + 3);
    expect(cost.text).toContain('Echo: Alice: the question');
    const turns = await h.app.service.history.load('test:W1:C1');
    expect(turns.map((t) => t.text)).toEqual([
      'warm-up question',
      'Echo: Alice: warm-up question',
      'the question',
      'Echo: Alice: the question',
    ]);
    expect(await h.app.store.get(`inflight:v2:${h.config.instanceId}`)).toBeUndefined();
  });

  it('SQLite, a new conversation: no second look for a history the batched read found absent, no prompt read', async () => {
    const h = await startHarness({ reuseSim: sim, config: { faq: { enabled: false } } });
    harnesses.push(h);
    const cost = await answerTurn(h, true);
    // main: 7 (dedupe claim, settings + meta, the meta and an old-layout history looked for again, the
    // user turn, the /forget index, the prompt's turns).
    // Dedupe claim, settings + meta, the user turn and beside it the /forget index (read once per person
    // per process, then written).
    expect(cost.before).toBeLessThanOrEqual(5);
    expect(cost.text).toContain('Echo: Alice: the question');
    const turns = await h.app.service.history.load('test:W1:C1');
    expect(turns.map((t) => t.text)).toEqual(['the question', 'Echo: Alice: the question']);
  });

  it.skipIf(!REDIS_URL)(
    'Redis, a new conversation: one batched read and the user turn before the model call',
    async () => {
      const h = await startHarness({
        storeUrl: REDIS_URL,
        reuseSim: sim,
        namespace: `${runPrefix}-redis-first`,
        config: { faq: { enabled: false } },
      });
      harnesses.push(h);
      const cost = await answerTurn(h, true);
      expect(cost.before).toBeLessThanOrEqual(2);
      expect(cost.text).toContain('Echo: Alice: the question');
    },
  );

  it.skipIf(!REDIS_URL)('Redis: the same, plus one MULTI for every usage bucket', async () => {
    const h = await startHarness({
      storeUrl: REDIS_URL,
      reuseSim: sim,
      namespace: `${runPrefix}-redis`,
      config: { faq: { enabled: false } },
    });
    harnesses.push(h);
    const cost = await answerTurn(h);
    // main: 6 before (settings, workspace settings, meta, turn + meta, meta again, the prompt's turns).
    expect(cost.before).toBeLessThanOrEqual(3);
    expect(cost.after).toBeLessThanOrEqual(2);
    expect(cost.inflight).toBeLessThanOrEqual(cost.shown + 3);
    // Dedupe claim, rate limiter, the user's /forget index, one MULTI of usage (main: six, 9 in all),
    // and the account's model limits shared by every instance: the request, its estimated tokens, and
    // the correction once `usage` says what the answer cost.
    expect(cost.coordination).toBeLessThanOrEqual(7);
    expect(cost.text).toContain('Echo: Alice: the question');
    const totals = await h.app.service.usage.totals({ kind: 'conversation', key: 'test:W1:C1' });
    expect(totals.all.answers).toBe(2);
  });
});

describe('the store before the model call', () => {
  it('reads the conversation while the dedupe claim is being written, not after it', async () => {
    const h = await startHarness({ reuseSim: sim, config: { faq: { enabled: false } } });
    harnesses.push(h);
    const { app } = h;
    const events: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const claim = app.coordinator.claim.bind(app.coordinator);
    app.coordinator.claim = async (id, ttlMs) => {
      events.push('claim');
      await gate;
      return claim(id, ttlMs);
    };
    const getManyRaw = app.store.getManyRaw.bind(app.store);
    app.store.getManyRaw = ((keys: string[]) => {
      events.push('read');
      return getManyRaw(keys);
    }) as typeof app.store.getManyRaw;
    const surface = new RecordingSurface();
    const answered = app.service.handleMessage(message('the question', { conversation: ref }), surface);
    // main: the read waited for the claim (the claim, then the read, one after the other).
    await vi.waitFor(() => expect([...events].sort()).toEqual(['claim', 'read']), {
      timeout: 2000,
      interval: 5,
    });
    release();
    expect((await answered).status).toBe('answered');
    expect([...surface.messages.values()].join('')).toContain('Echo: Alice: the question');
  });
});
