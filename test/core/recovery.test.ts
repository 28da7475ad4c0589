import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Keyv from 'keyv';
import { describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/core/history.ts';
import { InflightTracker, type MessageEditor, repairInterrupted } from '../../src/core/inflight.ts';
import { t } from '../../src/i18n.ts';
import { startDashScopeSim } from '../support/dashscope-sim.ts';
import { until } from '../support/fake-time.ts';
import {
  channelRef,
  message,
  silentLogger,
  startHarness,
  TEST_API_KEY,
  testConfig,
} from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

const LINE = t('en', 'status.interrupted');
const tempStore = () =>
  `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-crash-')), 'bot.sqlite')}`;

/** An editor that records what the repair did, the way a channel would show it. */
function recordingEditor(maxChars = 2000) {
  const edits: Array<[string, string]> = [];
  const posts: string[] = [];
  const editor: MessageEditor = {
    platform: 'test',
    maxChars,
    editMessage: async (_conversation, id, text) => void edits.push([id, text]),
    postMessage: async (_conversation, text) => void posts.push(text),
  };
  return { editor, edits, posts };
}

describe('crash recovery', () => {
  it('the next start edits each orphaned reply to say it was interrupted; the user turn is in history', async () => {
    const storeUrl = tempStore();
    const sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
    const first = await startHarness({ storeUrl, reuseSim: sim });
    sim.script({ text: 'partial words '.repeat(100), chunkChars: 7, chunkDelayMs: 10 });
    const surface = new RecordingSurface();
    const pending = first.app.service.handleMessage(message('a long question'), surface);
    await until(() => surface.transcript().includes('partial words partial'), 'the answer to start');
    await first.app.service.inflight.flush();
    // The process "dies" here: nothing of the first instance runs any more, its store is left as is.
    const shownAtCrash = surface.shown()[0] ?? '';

    const { editor, edits } = recordingEditor();
    const second = await startHarness({ storeUrl, reuseSim: sim });
    expect(await second.app.service.recoverInterrupted([editor])).toBe(1);
    expect(edits).toHaveLength(1);
    const [id, text] = edits[0] ?? ['', ''];
    expect(id).toBe(surface.events[0]?.id);
    expect(text.startsWith(shownAtCrash.slice(0, 20))).toBe(true);
    expect(text.endsWith(`\n\n${LINE}`)).toBe(true);
    const turns = await second.app.service.history.load('test:W1:C1');
    expect(turns[0]).toMatchObject({ role: 'user', text: 'a long question' });
    expect(turns[1]).toMatchObject({ role: 'assistant', status: 'interrupted' });
    // Nothing is repaired twice.
    expect(await second.app.service.recoverInterrupted([editor])).toBe(0);

    first.app.service.stop(surface.events[0]?.id ?? '', { id: 'U1', name: 'Alice', isBot: false });
    await pending;
    await second.close();
    await first.close();
    await sim.close();
  });

  it('an answer over several messages keeps every word it showed, and all of it is stored', async () => {
    const storeUrl = tempStore();
    const sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
    const first = await startHarness({ storeUrl, reuseSim: sim });
    // 40 chunks of 7 characters reach the channel, spread over three 100-character messages.
    const streamed = 'partial words '.repeat(30).slice(0, 280);
    sim.script({ text: 'partial words '.repeat(30), chunkChars: 7, stallAfterChunks: 40 });
    const surface = new RecordingSurface({ maxChars: 100 });
    const pending = first.app.service.handleMessage(message('a long question'), surface);
    await until(
      () => surface.transcript().replace(/\s+/g, '') === streamed.replace(/\s+/g, ''),
      'the streamed text',
    );
    await first.app.service.inflight.flush();
    const atCrash = surface.shown();
    expect(atCrash.length).toBe(3);

    const { editor, edits, posts } = recordingEditor(100);
    const second = await startHarness({ storeUrl, reuseSim: sim });
    expect(await second.app.service.recoverInterrupted([editor])).toBe(1);
    const lastId = [...surface.messages.keys()].at(-1);
    // The last message keeps what it showed and ends with the line (below it when it would not fit).
    const [id, text] = edits[0] ?? ['', ''];
    expect(id).toBe(lastId);
    const after = posts.length ? `${text}\n\n${posts[0]}` : text;
    expect(after).toBe(`${atCrash.at(-1)}\n\n${LINE}`);
    const turns = await second.app.service.history.load('test:W1:C1');
    expect(turns.at(-1)).toMatchObject({ role: 'assistant', status: 'interrupted', text: streamed.trim() });

    first.app.service.stop(lastId ?? '', { id: 'U1', name: 'Alice', isBot: false });
    await pending;
    await second.close();
    await first.close();
    await sim.close();
  });

  it('in a busy channel the cut answer is stored in its slot, right after its question', async () => {
    const storeUrl = tempStore();
    const sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
    const first = await startHarness({ storeUrl, reuseSim: sim });
    sim.setResponder(() => 'bob gets an answer');
    sim.script({ text: 'alice gets cut off mid sentence', chunkChars: 5, stallAfterChunks: 2 });
    const aliceSurface = new RecordingSurface();
    const pending = first.app.service.handleMessage(message('alice asks'), aliceSurface);
    await until(() => aliceSurface.transcript().includes('alice gets'), 'alice to see her answer start');
    const bob = message('bob asks', { author: { id: 'U2', name: 'Bob', isBot: false } });
    let bobDone = false;
    let aliceDone = false;
    void pending.then(() => (aliceDone = true));
    void first.app.service.handleMessage(bob, new RecordingSurface()).then(() => (bobDone = true));
    // Bob's answer lands while Alice's still streams (one after another, Bob would wait for her timeout).
    await until(() => bobDone || aliceDone, 'one of the answers to end');
    expect(aliceDone).toBe(false);
    await first.app.service.inflight.flush();

    const { editor } = recordingEditor();
    const second = await startHarness({ storeUrl, reuseSim: sim });
    expect(await second.app.service.recoverInterrupted([editor])).toBe(1);
    const turns = await second.app.service.history.load('test:W1:C1');
    expect(turns.map((turn) => [turn.text, turn.status ?? null])).toEqual([
      ['alice asks', null],
      ['alice gets', 'interrupted'],
      ['bob asks', null],
      ['bob gets an answer', 'complete'],
    ]);

    first.app.service.stop(aliceSurface.events[0]?.id ?? '', { id: 'U1', name: 'Alice', isBot: false });
    await pending;
    await second.close();
    await first.close();
    await sim.close();
  });

  it('a reply that showed only "thinking…" and quoted reasoning stores no text and shows only the line', async () => {
    const storeUrl = tempStore();
    const sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
    const config = {
      qwen: { defaultModel: 'qwq-plus', retryBaseDelayMs: 5, firstTokenTimeoutMs: 5000 },
      streaming: { minEditIntervalMs: 0, reasoning: 'quote' },
    };
    const first = await startHarness({ storeUrl, reuseSim: sim, config });
    sim.script({ reasoning: 'weighing the options carefully', text: 'never arrives', stallAfterChunks: 0 });
    const surface = new RecordingSurface();
    const pending = first.app.service.handleMessage(message('a hard question'), surface);
    await until(() => surface.transcript().includes('options carefully'), 'the answer to start');
    await first.app.service.inflight.flush();

    const { editor, edits } = recordingEditor();
    const second = await startHarness({ storeUrl, reuseSim: sim, config });
    expect(await second.app.service.recoverInterrupted([editor])).toBe(1);
    expect(edits.map(([, text]) => text)).toEqual([LINE]);
    const turns = await second.app.service.history.load('test:W1:C1');
    expect(turns.at(-1)).toMatchObject({ role: 'assistant', status: 'interrupted', text: '' });

    first.app.service.stop(surface.events[0]?.id ?? '', { id: 'U1', name: 'Alice', isBot: false });
    await pending;
    await second.close();
    await first.close();
    await sim.close();
  });

  it('a clean stop leaves nothing to repair: no edit, no "interrupted" line on the next start', async () => {
    const storeUrl = tempStore();
    const sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
    const first = await startHarness({ storeUrl, reuseSim: sim });
    // The store takes a moment per write, as a disk or a Redis round trip does.
    const store = first.app.store;
    const set = store.set.bind(store);
    const del = store.delete.bind(store);
    const later = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    };
    store.set = (async (...args: Parameters<typeof set>) => {
      await later();
      return set(...args);
    }) as typeof set;
    store.delete = (async (...args: Parameters<typeof del>) => {
      await later();
      return del(...args);
    }) as typeof del;
    sim.script({ text: 'a complete answer', chunkChars: 4 });
    const surface = new RecordingSurface();
    await first.app.service.handleMessage(message('a question'), surface);
    // What main's shutdown does: drain, then close the store.
    await first.app.service.drain(1000);
    await first.close();

    const { editor, edits, posts } = recordingEditor();
    const second = await startHarness({ storeUrl, reuseSim: sim });
    expect(await second.app.service.recoverInterrupted([editor])).toBe(0);
    expect([edits, posts]).toEqual([[], []]);
    expect(surface.transcript()).toBe('a complete answer');
    const turns = await second.app.service.history.load('test:W1:C1');
    expect(turns.map((turn) => turn.status ?? turn.role)).toEqual(['user', 'complete']);
    await second.close();
    await sim.close();
  });
});

describe('in-flight records', () => {
  it('an edit writes only the message it changed: the cost does not grow with the answers streaming', async () => {
    const store = new Keyv();
    const writes: Array<{ key: string; bytes: number }> = [];
    const set = store.set.bind(store);
    store.set = ((key: string, value: unknown, ttl?: number) => {
      writes.push({ key, bytes: JSON.stringify(value).length });
      return set(key, value, ttl);
    }) as typeof store.set;
    const tracker = new InflightTracker(store, 'inst-a', silentLogger());
    const answers = 50;
    const edits = 20;
    for (let e = 1; e <= edits; e++) {
      for (let a = 0; a < answers; a++) {
        const text = 'x'.repeat(e * 50);
        tracker.update(`answer-${a}`, {
          conversation: channelRef(`C${a}`),
          startedAt: 0,
          messages: [{ id: `m${a}`, text, body: text }],
        });
      }
      await tracker.flush();
    }
    const largestAnswer = 'x'.repeat(edits * 50).length;
    // Each write carries one message's text (plus a little framing), never the other answers'.
    expect(Math.max(...writes.map((w) => w.bytes))).toBeLessThan(2 * largestAnswer + 100);
    // One text write per landed edit, the answer's ids once, and a short index of answer ids.
    const textWrites = writes.filter((w) => w.key.includes(':t:')).length;
    expect(textWrites).toBe(answers * edits);
    expect(writes.filter((w) => w.key.includes(':a:')).length).toBe(answers);
    for (let a = 0; a < answers; a++) tracker.done(`answer-${a}`);
    await tracker.flush();
    expect(await store.get('inflight:v2:inst-a')).toBeUndefined();
  });

  it('a last message with no room left gets the line in a message of its own, nothing cut', async () => {
    const store = new Keyv();
    const config = testConfig('http://127.0.0.1:9', 'sqlite://:memory:');
    const full = 'y'.repeat(100);
    const before = new InflightTracker(store, 'inst-a', silentLogger());
    before.update('answer-1', {
      conversation: channelRef(),
      startedAt: 0,
      messages: [
        { id: 'm1', text: full, body: full },
        { id: 'm2', text: full, body: full },
      ],
    });
    await before.flush();
    const { editor, edits, posts } = recordingEditor(100);
    const history = new HistoryStore(store, { maxTurns: 50, retentionMs: 86_400_000 });
    const after = new InflightTracker(store, 'inst-a', silentLogger());
    const log = silentLogger();
    expect(
      await repairInterrupted({ tracker: after, editors: [editor], history, config, log, now: Date.now }),
    ).toBe(1);
    expect(edits).toEqual([['m2', full]]);
    expect(posts).toEqual([LINE]);
    expect((await history.load('test:W1:C1')).at(-1)).toMatchObject({
      text: full + full,
      status: 'interrupted',
    });
    // Another instance's records are not its business.
    const other = new InflightTracker(store, 'inst-b', silentLogger());
    expect(
      await repairInterrupted({ tracker: other, editors: [editor], history, config, log, now: Date.now }),
    ).toBe(0);
  });
});
