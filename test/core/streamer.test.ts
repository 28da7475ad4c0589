import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EditPacer } from '../../src/core/pacer.ts';
import { fencesBalanced } from '../../src/core/split.ts';
import { ReplyStreamer } from '../../src/core/streamer.ts';
import type { SurfaceLimits } from '../../src/core/types.ts';
import { silentLogger } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

function streamer(surface: RecordingSurface, minEditIntervalMs = 1000, pacer = new EditPacer()) {
  return new ReplyStreamer(surface, {
    pacer,
    log: silentLogger(),
    placeholder: '…',
    thinkingText: 'Thinking…',
    minEditIntervalMs,
  });
}

const limits = (l: Partial<SurfaceLimits> = {}) => ({
  maxChars: 2000,
  minEditIntervalMs: 1000,
  paceBucket: 'b',
  ...l,
});

describe('ReplyStreamer (fake timers)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('posts a placeholder, edits at most once per interval, and ends with the full answer', async () => {
    const surface = new RecordingSurface(limits());
    const s = streamer(surface);
    await s.start();
    expect(surface.shown()).toEqual(['…']);
    // 50 tokens, one every 100 ms: 5 s of streaming.
    for (let i = 0; i < 50; i++) {
      s.onText(`t${i} `);
      await vi.advanceTimersByTimeAsync(100);
    }
    const done = s.finish();
    await vi.advanceTimersByTimeAsync(1000);
    await done;
    const answer = Array.from({ length: 50 }, (_, i) => `t${i} `).join('');
    expect(surface.shown()).toEqual([answer]);
    const edits = surface.events.filter((e) => e.kind === 'edit');
    // First content at once, then ~1/s for 5 s, plus the final edit.
    expect(edits.length).toBeGreaterThanOrEqual(5);
    expect(edits.length).toBeLessThanOrEqual(8);
    // Every edit after the first content one keeps the 1 s spacing, the final one included.
    for (let i = 1; i < edits.length; i++) {
      expect((edits[i]?.at ?? 0) - (edits[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    }
    expect(edits.at(-1)?.final).toBe(true);
  });

  it("in a busy channel the first words go out before other answers' edits, and a waiting edit becomes the final one", async () => {
    // One request per 5 s for the whole channel, shared by two answers.
    const pacer = new EditPacer();
    const bucket = { points: 1, durationSec: 5 };
    const first = new RecordingSurface(limits({ bucket }), { typing: true });
    const second = new RecordingSurface(limits({ bucket }), { typing: true });
    const a = streamer(first, 1000, pacer);
    const b = streamer(second, 1000, pacer);
    await a.start();
    await b.start();
    a.onText('first answer, ');
    await vi.advanceTimersByTimeAsync(10);
    // A's next edit queues before B has anything to show.
    a.onText('more of it');
    await vi.advanceTimersByTimeAsync(1000);
    b.onText('second answer');
    await vi.advanceTimersByTimeAsync(10);
    const aDone = a.finish();
    const bDone = b.finish();
    await vi.advanceTimersByTimeAsync(30_000);
    await Promise.all([aDone, bDone]);
    // B's reply started before A's waiting edit went out.
    const bPost = second.events.find((e) => e.kind === 'post');
    const aEdit = first.events.find((e) => e.kind === 'edit');
    expect(bPost?.at).toBeLessThan(aEdit?.at ?? 0);
    // A finished while its edit waited: that edit carried the whole answer and was its final one.
    expect(first.events.filter((e) => e.kind === 'edit').map((e) => [e.text, e.final])).toEqual([
      ['first answer, more of it', true],
    ]);
    expect(second.shown()).toEqual(['second answer']);
  });

  it('skips edits when nothing changed and waits for the edit in flight', async () => {
    const surface = new RecordingSurface(limits());
    let inFlight = 0;
    let maxInFlight = 0;
    const edit = surface.edit.bind(surface);
    surface.edit = async (m, t, o) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1500)); // a slow platform
      await edit(m, t, o);
      inFlight--;
    };
    const s = streamer(surface, 100);
    await s.start();
    for (let i = 0; i < 30; i++) {
      s.onText('x');
      await vi.advanceTimersByTimeAsync(100);
    }
    const done = s.finish();
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    expect(maxInFlight).toBe(1);
    expect(surface.shown()).toEqual(['x'.repeat(30)]);
    const texts = surface.events.filter((e) => e.kind === 'edit').map((e) => e.text);
    expect(new Set(texts.slice(0, -1)).size).toBe(texts.length - 1);
  });

  it('overflows into follow-up messages with fences intact, the last edit of each part final', async () => {
    const surface = new RecordingSurface(limits({ maxChars: 300, minEditIntervalMs: 0 }));
    const s = streamer(surface, 0);
    await s.start();
    const answer = `Intro\n\n\`\`\`js\n${Array.from({ length: 120 }, (_, i) => `f(${i});`).join('\n')}\n\`\`\`\nDone.`;
    for (const ch of answer.match(/[\s\S]{1,7}/g) ?? []) {
      s.onText(ch);
      await vi.advanceTimersByTimeAsync(1);
    }
    await s.finish();
    const shown = surface.shown();
    expect(shown.length).toBeGreaterThan(1);
    for (const text of shown) {
      expect(text.length).toBeLessThanOrEqual(300);
      expect(fencesBalanced(text)).toBe(true);
    }
    const stripped = shown
      .map((t, i) => (i > 0 ? t.replace(/^```js\n/, '') : t))
      .map((t) => t.replace(/\n```$/, ''));
    expect(stripped.join('').replace(/\n/g, '')).toBe(answer.replace(/\n```$/, '').replace(/\n/g, ''));
    expect(s.failedDeliveries).toBe(0);
  });

  it('keeps streamed text and appends the error line; a failed edit is retried by the next flush', async () => {
    const surface = new RecordingSurface(limits({ minEditIntervalMs: 0 }));
    surface.failEditAt = 2;
    const s = streamer(surface, 0);
    await s.start();
    s.onText('Partial answer');
    await vi.advanceTimersByTimeAsync(10);
    s.onText(' continues');
    await vi.advanceTimersByTimeAsync(10);
    await s.finish('⚠️ The model took too long to answer.');
    expect(surface.shown()).toEqual(['Partial answer continues\n\n⚠️ The model took too long to answer.']);
    expect(s.failedDeliveries).toBe(1);
  });

  it('says it is thinking while only reasoning arrives', async () => {
    const surface = new RecordingSurface(limits({ minEditIntervalMs: 0 }));
    const s = streamer(surface, 0);
    await s.start();
    s.onReasoning('hmm');
    await vi.advanceTimersByTimeAsync(10);
    expect(surface.shown()).toEqual(['Thinking…']);
    s.onText('Answer.');
    await s.finish();
    expect(surface.shown()).toEqual(['Answer.']);
  });

  it('shows typing instead of a placeholder, and posts at the first token', async () => {
    const surface = new RecordingSurface(limits(), { typing: true });
    const s = streamer(surface);
    await s.start();
    await vi.advanceTimersByTimeAsync(9000);
    expect(surface.events.filter((e) => e.kind === 'typing').length).toBe(2);
    expect(surface.shown()).toEqual([]);
    s.onText('Hi');
    await vi.advanceTimersByTimeAsync(1);
    expect(surface.events.filter((e) => e.kind === 'post').map((e) => [e.text, e.streaming])).toEqual([
      ['Hi', true],
    ]);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(surface.events.filter((e) => e.kind === 'typing').length).toBe(2);
    await s.finish();
  });

  it('shares one bucket: 10 answers at once never exceed 5 requests per 5 s together', async () => {
    const pacer = new EditPacer();
    const surfaces = Array.from(
      { length: 10 },
      () => new RecordingSurface(limits({ bucket: { points: 5, durationSec: 5 } })),
    );
    const streamers = surfaces.map((s) => streamer(s, 1000, pacer));
    const starting = Promise.all(streamers.map((s) => s.start()));
    await vi.advanceTimersByTimeAsync(30_000);
    await starting;
    for (let i = 0; i < 100; i++) {
      for (const s of streamers) s.onText('y');
      await vi.advanceTimersByTimeAsync(200);
    }
    const finishing = Promise.all(streamers.map((s) => s.finish()));
    await vi.advanceTimersByTimeAsync(120_000);
    await finishing;
    const times = surfaces
      .flatMap((s) => s.events.filter((e) => e.kind !== 'typing').map((e) => e.at))
      .sort((a, b) => a - b);
    for (let i = 5; i < times.length; i++)
      expect((times[i] ?? 0) - (times[i - 5] ?? 0)).toBeGreaterThanOrEqual(4999);
    for (const s of surfaces) expect(s.shown()).toEqual(['y'.repeat(100)]);
  });

  it('streams natively, and falls back to post-and-edit for the rest when the stream fails', async () => {
    const surface = new RecordingSurface(limits({ minEditIntervalMs: 0 })).withNative(10_000, 3);
    const s = streamer(surface, 0);
    await s.start();
    const words = Array.from({ length: 10 }, (_, i) => `w${i} `);
    for (const w of words) {
      s.onText(w);
      await vi.advanceTimersByTimeAsync(5);
    }
    await s.finish();
    const shown = surface.shown();
    expect(shown.join('')).toBe(words.join(''));
    expect(surface.events.some((e) => e.kind === 'append')).toBe(true);
    expect(surface.events.some((e) => e.kind === 'post')).toBe(true);
  });

  it('posts take their own budget when the platform limits them apart from edits', async () => {
    const surface = new RecordingSurface(
      limits({ maxChars: 100, minEditIntervalMs: 0, post: { key: 'posts', points: 1, durationSec: 1 } }),
    );
    const s = streamer(surface, 0);
    await s.start();
    // 450 characters in one go: the placeholder's message plus four follow-up posts.
    s.onText(`${'word '.repeat(90)}`);
    const done = s.finish();
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    const posts = surface.events.filter((e) => e.kind === 'post').map((e) => e.at);
    expect(posts.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < posts.length; i++)
      expect((posts[i] ?? 0) - (posts[i - 1] ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(surface.shown().join('').replace(/\s+/g, ' ').trim()).toBe('word '.repeat(90).trim());
  });
});
