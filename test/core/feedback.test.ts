/**
 * Feedback in the core: which answers get the 👍 / 👎 buttons (finished ones, on their last message
 * only), how votes expire with the history's retention and are swept from disk, and several instances
 * on one Redis agreeing on one vote per person per answer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { VoteInput } from '../../src/core/feedback.ts';
import type { Author } from '../../src/core/types.ts';
import { listKeys } from '../../src/store/keys.ts';
import { sweepExpired } from '../../src/store/sweep.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { type ModelHarness, startModelHarness } from '../support/fake-model.ts';
import { until } from '../support/fake-time.ts';
import { channelRef, type Harness, message, startHarness, TEST_API_KEY } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';

const DAY = 86_400_000;
const alice: Author = { id: 'U1', name: 'Alice', isBot: false };

let h: ModelHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  vi.useRealTimers();
});

const rated = (surface: RecordingSurface) => surface.events.filter((e) => e.feedback);

describe('which answers get the buttons', () => {
  it('a finished answer: its last message, with the final edit; the messages before it none', async () => {
    h = await startModelHarness();
    const surface = new RecordingSurface({ maxChars: 100 });
    const answer = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    h.model.script({ text: answer });
    const outcome = await h.app.service.handleMessage(message('a long one please'), surface);
    expect(outcome.status).toBe('answered');
    const messages = [...surface.messages.keys()];
    expect(messages.length).toBeGreaterThan(2);
    expect(rated(surface)).toEqual([
      expect.objectContaining({ id: messages.at(-1), final: true, feedback: { model: 'qwen-plus' } }),
    ]);
    expect(surface.transcript().replace(/\s+/g, '')).toBe(answer.replace(/\s+/g, ''));
  });

  it('a native stream gets them when it stops', async () => {
    h = await startModelHarness();
    const surface = new RecordingSurface().withNative(10_000);
    await h.app.service.handleMessage(message('stream it'), surface);
    expect(rated(surface)).toEqual([
      expect.objectContaining({ kind: 'stop', feedback: { model: 'qwen-plus' } }),
    ]);
  });

  it('a stopped answer gets none, and neither does any answer with feedback.enabled off', async () => {
    h = await startModelHarness();
    let release = () => {};
    const hold = new Promise<void>((resolve) => (release = resolve));
    h.model.script({ text: 'This answer is stopped half way through.', holdAfterChunks: 2, hold });
    const surface = new RecordingSurface();
    const question = message('talk', { author: alice });
    const answered = h.app.service.handleMessage(question, surface);
    await until(() => surface.events.some((e) => e.kind === 'post'), 'the answer to show');
    expect(h.app.service.stop(question.id, alice)).toBe(true);
    release();
    expect((await answered).status).toBe('stopped');
    expect(surface.transcript()).toContain('Stopped by Alice');
    expect(rated(surface)).toEqual([]);
    await h.close();

    h = await startModelHarness({ config: { feedback: { enabled: false } } });
    const off = new RecordingSurface();
    expect((await h.app.service.handleMessage(message('hello'), off)).status).toBe('answered');
    expect(rated(off)).toEqual([]);
  });
});

describe('votes follow the history’s retention', () => {
  it('a vote (changed or not) expires retentionDays after the first press, its counts with it; the sweep deletes them', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    h = await startModelHarness({ config: { history: { retentionDays: 30 } } });
    const feedback = h.app.service.feedback;
    const input: VoteInput = { conversation: channelRef(), answerId: 'A1', model: 'qwen-plus', voter: alice };
    await feedback.vote({ ...input, vote: 'up' }, 'en');
    vi.setSystemTime(Date.now() + 20 * DAY);
    await feedback.vote({ ...input, vote: 'down' }, 'en');
    expect(await feedback.shares('test', 'W1')).toEqual([{ model: 'qwen-plus', up: 0, down: 1 }]);
    vi.setSystemTime(Date.now() + 9 * DAY);
    expect(await feedback.get(channelRef(), 'A1', alice.id)).toMatchObject({ vote: 'down' });

    vi.setSystemTime(Date.now() + 2 * DAY); // 31 days after the first press
    expect(await feedback.get(channelRef(), 'A1', alice.id)).toBeUndefined();
    expect(await feedback.shares('test', 'W1')).toEqual([]);
    // Left on disk until the sweep: the day's counter and the voter's index (the vote went when read).
    expect(await listKeys(h.app.store, 'feedback:')).toHaveLength(2);
    vi.setSystemTime(Date.now() + 2 * DAY);
    expect(await sweepExpired(h.app.store)).toBe(2);
    expect(await listKeys(h.app.store, 'feedback:')).toEqual([]);
  });
});

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('feedback tests: REDIS_URL is not set, skipping the shared-store variant');
const runPrefix = `qwenbot-test-feedback-${process.pid}-${Date.now()}`;

describe.skipIf(!REDIS_URL)('several instances on one Redis', () => {
  let sim: DashScopeSim;
  const instances: Harness[] = [];
  beforeAll(async () => {
    sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  });
  afterAll(async () => {
    for (const i of instances) await i.close().catch(() => undefined);
    await sim.close();
    await deleteRedisKeys(runPrefix, REDIS_URL ?? '');
  });

  it('presses of one person on one answer through two instances at once leave one vote, counted once', async () => {
    for (let i = 0; i < 2; i++)
      instances.push(await startHarness({ storeUrl: REDIS_URL, reuseSim: sim, namespace: runPrefix }));
    const [one, two] = instances.map((i) => i.app.service.feedback);
    if (!one || !two) throw new Error('two instances');
    const input: VoteInput = { conversation: channelRef(), answerId: 'A1', model: 'qwen-plus', voter: alice };
    const bob: Author = { id: 'U2', name: 'Bob', isBot: false };
    await Promise.all([
      one.vote({ ...input, vote: 'up' }, 'en'),
      two.vote({ ...input, vote: 'down' }, 'en'),
      one.vote({ ...input, vote: 'down' }, 'en'),
      two.vote({ ...input, voter: bob, vote: 'up' }, 'en'),
    ]);
    const mine = await two.get(channelRef(), 'A1', alice.id);
    const [share] = await one.shares('test', 'W1');
    // Whichever press came last decides; the counts agree with the stored votes.
    expect(share).toEqual({
      model: 'qwen-plus',
      up: 1 + (mine?.vote === 'up' ? 1 : 0),
      down: mine?.vote === 'down' ? 1 : 0,
    });
    expect(await one.forget('test', alice.id)).toBe(1);
    expect(await two.get(channelRef(), 'A1', alice.id)).toBeUndefined();
    expect(await two.shares('test', 'W1')).toEqual([{ model: 'qwen-plus', up: 1, down: 0 }]);
  });
});
