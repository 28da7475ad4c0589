/**
 * Before the model call a turn waits for the store twice, not three times: the prompt's earlier turns
 * are read beside the question's write. Under load every wait is a place in the store's queue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { lastUserText } from '../support/dashscope-sim.ts';
import { type Harness, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ref = { platform: 'test', workspace: 'W1', channel: 'C1', isDM: true };
const turnKey = (seq: number) => `hist:v2:turn:test:W1:C1:${seq}`;

interface Adapter {
  getMany(keys: string[]): Promise<unknown[]>;
  setMany(entries: Array<{ key: string; value: unknown }>): Promise<void>;
}

/**
 * Holds the store's write of a user turn until `release`; records the turn keys read from the start
 * until the write is released.
 */
function holdQuestionWrite(h: Harness) {
  const adapter = h.app.store.store as unknown as Adapter;
  const getMany = adapter.getMany.bind(adapter);
  const setMany = adapter.setMany.bind(adapter);
  const readBeforeWrite: string[] = [];
  let released = false;
  let reached = () => {};
  const writeReached = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  adapter.getMany = (keys) => {
    if (!released) readBeforeWrite.push(...keys.filter((k) => k.includes(':turn:')));
    return getMany(keys);
  };
  adapter.setMany = async (entries) => {
    if (entries.some((e) => String(e.value).includes('"role":"user"'))) {
      reached();
      await gate;
    }
    return setMany(entries);
  };
  const release = () => {
    released = true;
    open();
  };
  return { readBeforeWrite, writeReached, release };
}

describe('the prompt of a question in a conversation with history', () => {
  it("is read while the question's write is still landing, and holds every earlier turn", async () => {
    h = await startHarness();
    h.sim.setResponder((body) => `re: ${lastUserText(body)}`);
    for (const text of ['first', 'second'])
      await h.app.service.handleMessage(message(text, { conversation: ref }), new RecordingSurface());
    await h.app.service.queue.idle();
    const hold = holdQuestionWrite(h);
    const surface = new RecordingSurface();
    const answered = h.app.service.handleMessage(message('third', { conversation: ref }), surface);
    await hold.writeReached;
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    // The four earlier turns (two questions, two answers) were asked for before the write landed.
    const readBeforeWrite = [...hold.readBeforeWrite];
    hold.release();
    expect(readBeforeWrite).toEqual([turnKey(0), turnKey(1), turnKey(2), turnKey(3)]);
    expect((await answered).status).toBe('answered');
    expect(surface.shown().join('')).toBe('re: third');
    const prompt = h.sim
      .chatRequests()
      .at(-1)
      ?.messages.map((m) => `${m.role}: ${String(m.content)}`);
    expect(prompt?.slice(-5)).toEqual([
      'user: first',
      'assistant: re: first',
      'user: second',
      'assistant: re: second',
      'user: third',
    ]);
  });

  it('leaves out the turns that the write of the question pushed past history.maxTurns', async () => {
    h = await startHarness({ config: { history: { maxTurns: 4 } } });
    h.sim.setResponder((body) => `re: ${lastUserText(body)}`);
    for (const text of ['first', 'second', 'third'])
      await h.app.service.handleMessage(message(text, { conversation: ref }), new RecordingSurface());
    const prompt = h.sim
      .chatRequests()
      .at(-1)
      ?.messages.map((m) => `${m.role}: ${String(m.content)}`);
    expect(prompt?.filter((line) => !line.startsWith('system'))).toEqual([
      'user: second',
      'assistant: re: second',
      'user: third',
    ]);
    const stored = await h.app.service.history.load('test:W1:C1');
    expect(stored.map((t) => t.text)).toEqual(['second', 're: second', 'third', 're: third']);
  });
});
