/**
 * A busy conversation: several people ask at once in one channel. Different askers are answered side
 * by side; each prompt holds exactly the turns that arrived before it; history keeps arrival order; one
 * person's messages stay in order; /reset does not wait for answers in flight, and their words do not
 * come back into the new conversation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ChatBody, lastUserText } from '../support/dashscope-sim.ts';
import { type Harness, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const KEY = 'test:W1:C1';
const asker = (i: number) => ({ id: `U${i}`, name: `Asker${i}`, isBot: false });

/** Every surface stamps its events from one counter, so events of different answers can be ordered. */
function orderedSurfaces(n: number): RecordingSurface[] {
  let tick = 0;
  return Array.from({ length: n }, () => new RecordingSurface({}, { now: () => ++tick }));
}

/** Polls (no sleeping) until the condition holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

/** A promise a test settles by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** The user turns the model was shown, in order. */
function userTurns(body: ChatBody | undefined): string[] {
  return (body?.messages ?? []).filter((m) => m.role === 'user').map((m) => String(m.content));
}

describe('several askers in one conversation', () => {
  it('are answered side by side; prompts hold exactly the earlier turns; history keeps arrival order', async () => {
    const ASKERS = 6;
    h = await startHarness();
    const sim = h.sim;
    sim.setResponder((body) => `re: ${lastUserText(body)}`);
    // Every answer shows its first words, then waits until all six questions have reached the model:
    // answered one after another, the first answer would wait for ever (and the test fail).
    const allAsked = gate();
    for (let i = 0; i < ASKERS; i++) sim.script({ holdAfterChunks: 1, hold: allAsked.promise });
    const surfaces = orderedSurfaces(ASKERS);
    const s = h.app.service;
    const outcomes = surfaces.map((surface, i) =>
      s.handleMessage(message(`question ${i}`, { author: asker(i) }), surface),
    );
    // Answered one after another, the first answer ends only when the model call times out.
    let anyDone = false;
    for (const outcome of outcomes) void outcome.then(() => (anyDone = true));
    await until(() => sim.chatRequests().length === ASKERS || anyDone);
    expect(anyDone).toBe(false);
    allAsked.open();
    const results = await Promise.all(outcomes);

    expect(results.map((r) => r.status)).toEqual(Array(ASKERS).fill('answered'));
    // Each reply started (its first message) before the answers asked before it had finished.
    for (let i = 1; i < ASKERS; i++) {
      const started = surfaces[i]?.events.find((e) => e.kind === 'post')?.at ?? Number.POSITIVE_INFINITY;
      const previousDone = surfaces[i - 1]?.events.findLast((e) => e.kind === 'edit')?.at ?? 0;
      expect(started).toBeLessThan(previousDone);
    }
    for (let i = 0; i < ASKERS; i++) expect(surfaces[i]?.shown()).toEqual([`re: Asker${i}: question ${i}`]);
    // The prompt of question i holds questions 0..i (earlier ones not answered yet) and nothing later.
    const prompts = [...sim.chatRequests()].sort((a, b) => userTurns(a).length - userTurns(b).length);
    prompts.forEach((body, i) => {
      expect(userTurns(body)).toEqual(Array.from({ length: i + 1 }, (_, k) => `Asker${k}: question ${k}`));
      expect(body.messages.filter((m) => m.role === 'assistant')).toEqual([]);
    });
    // Each answer right after its question, in the order the questions arrived.
    const turns = await s.history.load(KEY);
    expect(turns.map((t) => [t.role, t.text])).toEqual(
      Array.from({ length: ASKERS }, (_, i) => [
        ['user', `question ${i}`],
        ['assistant', `re: Asker${i}: question ${i}`],
      ]).flat(),
    );
  });

  it("one person's back-to-back messages stay in order: their second prompt holds their first answer", async () => {
    h = await startHarness();
    const sim = h.sim;
    sim.setResponder((body) => `re: ${lastUserText(body)}`);
    const release = gate();
    // Alice's first answer is slow; Bob, asking in between, is answered meanwhile.
    sim.script({ holdAfterChunks: 1, hold: release.promise });
    const s = h.app.service;
    const alice = asker(1);
    const bob = asker(2);
    const [first, second, third] = orderedSurfaces(3) as [
      RecordingSurface,
      RecordingSurface,
      RecordingSurface,
    ];
    const a1 = s.handleMessage(message('alice one', { author: alice }), first);
    const b1 = s.handleMessage(message('bob one', { author: bob }), second);
    const a2 = s.handleMessage(message('alice two', { author: alice }), third);
    expect((await b1).status).toBe('answered');
    // Alice's second question has not reached the model while her first answer streams.
    expect(sim.chatRequests().map((r) => lastUserText(r))).toEqual(['Asker1: alice one', 'Asker2: bob one']);
    release.open();
    await Promise.all([a1, a2]);

    const aliceTwo = sim.chatRequests().find((r) => lastUserText(r) === 'Asker1: alice two');
    expect(JSON.stringify(aliceTwo?.messages)).toContain('re: Asker1: alice one');
    const turns = await s.history.load(KEY);
    expect(turns.map((t) => t.text)).toEqual([
      'alice one',
      're: Asker1: alice one',
      'bob one',
      're: Asker2: bob one',
      'alice two',
      're: Asker1: alice two',
    ]);
  });

  it('/reset does not wait for an answer in flight; that answer is shown but not stored', async () => {
    h = await startHarness();
    const sim = h.sim;
    sim.setResponder((body) => `re: ${lastUserText(body)}`);
    const release = gate();
    sim.script({ text: 'the old answer', holdAfterChunks: 1, hold: release.promise });
    const s = h.app.service;
    const oldSurface = new RecordingSurface();
    const old = s.handleMessage(message('before the reset', { author: asker(1) }), oldSurface);
    await until(() => oldSurface.transcript().length > 1 && sim.chatRequests().length === 1);

    let resetDone = false;
    const reset = s
      .handleMessage(message('/reset', { author: asker(2) }), new RecordingSurface())
      .then((r) => {
        resetDone = true;
        return r;
      });
    // Answered one after another, the reset would wait for the held answer: open it as a fallback only.
    await until(() => resetDone || sim.chatRequests().length > 1);
    expect(resetDone).toBe(true);
    expect((await reset).status).toBe('command');

    // A question of the new conversation, answered while the old answer still streams.
    const fresh = new RecordingSurface();
    expect((await s.handleMessage(message('after the reset', { author: asker(3) }), fresh)).status).toBe(
      'answered',
    );
    release.open();
    expect((await old).status).toBe('answered');
    // The old answer finished where its asker could see it…
    expect(oldSurface.shown()).toEqual(['the old answer']);
    // …but did not land in the new conversation's history, nor in its prompts.
    expect(userTurns(sim.chatRequests()[1])).toEqual(['Asker3: after the reset']);
    const turns = await s.history.load(KEY);
    expect(turns.map((t) => t.text)).toEqual(['after the reset', 're: Asker3: after the reset']);
  });
});
