/**
 * Commands take the same path as messages: the same guards, and the conversation's turn in arrival
 * order. They do not wait for an answer streaming in that conversation; an answer that started before a
 * /reset or /forget still finishes where people see it, but is not stored after the command ran.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReplyStreamer } from '../../src/core/streamer.ts';
import type { Author, CommandInvocation } from '../../src/core/types.ts';
import { t } from '../../src/i18n.ts';
import { StoreError } from '../../src/store/index.ts';
import { type ModelHarness, startModelHarness } from '../support/fake-model.ts';
import { channelRef, message } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: ModelHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ALICE: Author = { id: 'U1', name: 'Alice', isBot: false };
const CHANNEL = channelRef('C1');
const DM = channelRef('D1', { isDM: true });
const key = (ref = CHANNEL) => `${ref.platform}:${ref.workspace}:${ref.channel}`;

function gate() {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

function slash(name: string, rawArgs = '', extra: Partial<CommandInvocation> = {}) {
  if (!h) throw new Error('no harness');
  return h.app.service.runCommand({ name, rawArgs, conversation: CHANNEL, author: ALICE, ...extra });
}

/**
 * Resolves once the command has either reached the store (what main does, mid-answer) or is waiting in
 * the conversation's queue behind the answer (what it must do): only then is the answer let go.
 */
async function commandReached(spied: { mock: { calls: unknown[][] } }, conversation = key()) {
  const service = h?.app.service;
  await vi.waitFor(() => {
    const touched = spied.mock.calls.some((args) => args[0] === conversation);
    expect(touched || (service?.queue.size ?? 0) > 1).toBe(true);
  });
}

/** Starts an answer that pauses after its first chunks are visible; `go()` lets it finish. */
async function answerHeldMidway(text = 'Oolong is a partly oxidised tea.', conversation = CHANNEL) {
  if (!h) throw new Error('no harness');
  const held = gate();
  h.model.script({ text, chunkChars: 4, holdAfterChunks: 2, hold: held.promise });
  const surface = new RecordingSurface();
  const done = h.app.service.handleMessage(message('tell me about oolong', { conversation }), surface);
  await vi.waitFor(() => expect(surface.transcript()).toContain(text.slice(0, 8)));
  return { surface, done, go: held.open };
}

describe('commands that change the conversation while an answer streams there', () => {
  it('/reset sent mid-answer leaves nothing of that answer in history (slash and typed)', async () => {
    h = await startModelHarness();
    const cleared = vi.spyOn(h.app.service.history, 'clear');
    const first = await answerHeldMidway();
    const reset = slash('reset');
    await commandReached(cleared);
    first.go();
    expect((await first.done).status).toBe('answered');
    expect((await reset).text).toBe(t('en', 'reset.done'));
    expect(await h.app.service.history.load(key())).toEqual([]);

    const second = await answerHeldMidway();
    const typedSurface = new RecordingSurface();
    const typed = h.app.service.handleMessage(message('/reset'), typedSurface);
    cleared.mockClear();
    await commandReached(cleared);
    second.go();
    await second.done;
    expect((await typed).status).toBe('command');
    expect(typedSurface.shown()).toEqual([t('en', 'reset.done')]);
    expect(await h.app.service.history.load(key())).toEqual([]);
    // The answers themselves were shown whole.
    expect(second.surface.shown()).toEqual(['Oolong is a partly oxidised tea.']);
  });

  it('/forget confirm mid-answer in the same conversation leaves neither the question nor the answer', async () => {
    h = await startModelHarness();
    const removed = vi.spyOn(h.app.service.history, 'removeUser');
    const held = await answerHeldMidway('The secret word is pelican.');
    const forget = slash('forget', 'confirm');
    await commandReached(removed);
    held.go();
    await held.done;
    await forget;
    const left = await h.app.service.history.load(key());
    expect(left.map((turn) => turn.text)).toEqual([]);
  });

  it('/forget confirm from a DM while the answer streams in a channel removes that turn and its answer', async () => {
    h = await startModelHarness();
    await h.app.service.handleMessage(
      message('hello in private', { conversation: DM }),
      new RecordingSurface(),
    );
    const removed = vi.spyOn(h.app.service.history, 'removeUser');
    const held = await answerHeldMidway('The secret word is pelican.');
    const forget = slash('forget', 'confirm', { conversation: DM });
    await commandReached(removed);
    held.go();
    await held.done;
    const reply = await forget;
    // The DM's two turns and the channel question: the answer, not stored yet, never will be.
    expect(reply.text).toBe(t('en', 'forget.done', { turns: 3, count: 2 }));
    expect(await h.app.service.history.load(key())).toEqual([]);
    expect(await h.app.service.history.load(key(DM))).toEqual([]);
  });

  it('two /forget confirm at once, each from a conversation the other must visit, both finish', async () => {
    h = await startModelHarness();
    const BOB: Author = { id: 'U2', name: 'Bob', isBot: false };
    const s = h.app.service;
    await s.handleMessage(message('alice here'), new RecordingSurface());
    await s.handleMessage(message('bob here', { author: BOB, conversation: DM }), new RecordingSurface());
    await s.handleMessage(message('bob in channel', { author: BOB }), new RecordingSurface());
    await s.handleMessage(message('alice in dm', { conversation: DM }), new RecordingSurface());
    await Promise.all([
      slash('forget', 'confirm', { conversation: DM }),
      slash('forget', 'confirm', { author: BOB }),
    ]);
    expect(await s.history.load(key())).toEqual([]);
    expect(await s.history.load(key(DM))).toEqual([]);
  });

  it('two settings changes at once are both kept', async () => {
    h = await startModelHarness();
    await Promise.all([slash('thinking', 'on'), slash('search', 'on')]);
    expect(await h.app.service.settings.get(key())).toEqual({ thinking: true, search: true });
  });

  it('read-only commands answer at once, without waiting for the answer streaming there', async () => {
    h = await startModelHarness();
    const held = await answerHeldMidway();
    const help = await slash('help');
    const model = await slash('model');
    expect(help.text).toContain('/reset');
    expect(model.text).toContain(t('en', 'model.current', { model: 'qwen-plus' }));
    // Still streaming: the answer has not been released yet.
    expect(h.app.service.activeCount).toBe(1);
    held.go();
    await held.done;
  });
});

describe('commands pass the same guards as messages', () => {
  it('a denied user gets a refusal to a slash command and nothing is changed', async () => {
    h = await startModelHarness({ config: { guards: { denyUsers: ['U1'] } } });
    await h.app.service.handleMessage(
      message('bob says hi', { author: { id: 'U2', name: 'Bob', isBot: false } }),
      new RecordingSurface(),
    );
    const reply = await slash('reset');
    expect(reply).toEqual({ text: t('en', 'guard.denied'), ephemeral: true });
    expect((await h.app.service.history.load(key())).length).toBe(2);
  });

  it('slash and typed commands count toward the per-user rate limit; /help does not', async () => {
    h = await startModelHarness({ config: { guards: { userMessagesPerWindow: 2, userWindowSeconds: 60 } } });
    expect((await slash('reset')).text).toBe(t('en', 'reset.done'));
    const typed = new RecordingSurface();
    await h.app.service.handleMessage(message('/reset'), typed);
    expect(typed.shown()).toEqual([t('en', 'reset.done')]);
    const limited = await slash('reset');
    expect(limited.text).toMatch(/too fast/);
    expect(limited.ephemeral).toBe(true);
    expect((await slash('help')).text).toContain('/reset');
  });

  it('over the daily quota, commands that change things are refused; /usage still answers', async () => {
    h = await startModelHarness({ config: { usage: { dailyTokenQuotaPerUser: 1 } } });
    await h.app.service.handleMessage(message('hello'), new RecordingSurface());
    const used = await h.app.service.usage.todayTokens({ kind: 'user', platform: 'test', id: 'U1' });
    expect(used).toBeGreaterThan(1);
    const refused = await slash('reset');
    expect(refused.text).toBe(t('en', 'usage.quota', { used, quota: 1 }));
    expect((await h.app.service.history.load(key())).length).toBe(2);
    expect((await slash('usage')).text).toContain(t('en', 'usage.you'));
  });
});

describe('answer(): one visible message and a clean slate when the store fails early', () => {
  it('an early store error shows only the error line; active set and gauge return to 0', async () => {
    h = await startModelHarness();
    const s = h.app.service;
    vi.spyOn(s.settings, 'resolve').mockRejectedValueOnce(new StoreError('load settings: store down'));
    const surface = new RecordingSurface();
    // A platform post takes a round trip: it completes after the store's refusal has been seen.
    const post = surface.post.bind(surface);
    surface.post = async (text, options) => {
      await new Promise(setImmediate);
      return post(text, options);
    };
    const outcome = await s.handleMessage(message('hello?'), surface);
    expect(outcome.status).toBe('error');
    expect(surface.shown()).toEqual([`⚠️ ${t('en', 'error.store')}`]);
    expect(s.activeCount).toBe(0);
    expect((await h.app.metrics.activeStreams.get()).values[0]?.value ?? 0).toBe(0);
    // Nothing was sent to the model.
    expect(h.model.chatRequests()).toHaveLength(0);
  });

  it('a throw after the model answered still releases the active set, the in-flight record and the gauge', async () => {
    h = await startModelHarness();
    const s = h.app.service;
    const done = vi.spyOn(s.inflight, 'done');
    vi.spyOn(ReplyStreamer.prototype, 'finish').mockRejectedValueOnce(new Error('platform vanished'));
    const m = message('hello?');
    await expect(s.handleMessage(m, new RecordingSurface())).rejects.toThrow('platform vanished');
    expect(s.activeCount).toBe(0);
    expect(done).toHaveBeenCalledWith(m.id);
    expect((await h.app.metrics.activeStreams.get()).values[0]?.value ?? 0).toBe(0);
  });
});
