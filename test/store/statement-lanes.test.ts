import { describe, expect, it } from 'vitest';
import { inBackground, inBackgroundLane, StatementLanes } from '../../src/store/statement-lanes.ts';

/** A statement that finishes when the test says so, noting when it started. */
function gate(log: string[], name: string) {
  let finish: (value: string) => void = () => {};
  let fail: (err: Error) => void = () => {};
  const statement = () => {
    log.push(`start ${name}`);
    return new Promise<string>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
  };
  return { statement, finish: () => finish(name), fail: (err: Error) => fail(err) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('statement lanes', () => {
  it('run a foreground statement before background ones that were waiting first', async () => {
    const lanes = new StatementLanes({ inFlight: 1, promoteAfterMs: 10_000, maxJoined: 1 });
    const log: string[] = [];
    const busy = gate(log, 'busy');
    const running = lanes.run(false, busy.statement);
    for (const n of [1, 2, 3]) void lanes.run(true, gate(log, `bookkeeping ${n}`).statement);
    const question = gate(log, 'question');
    const asked = lanes.run(false, question.statement);
    expect(lanes.waiting).toBe(4);
    busy.finish();
    await settle();
    expect(log).toEqual(['start busy', 'start question']);
    question.finish();
    expect(await asked).toBe('question');
    await settle();
    expect(log.at(-1)).toBe('start bookkeeping 1');
    expect(await running).toBe('busy');
  });

  it('promote a background statement that has waited promoteAfterMs', async () => {
    let now = 0;
    const lanes = new StatementLanes({ inFlight: 1, promoteAfterMs: 500, maxJoined: 1, now: () => now });
    const log: string[] = [];
    const first = gate(log, 'first');
    void lanes.run(false, first.statement);
    void lanes.run(true, gate(log, 'bookkeeping').statement);
    now = 499;
    void lanes.run(false, gate(log, 'question').statement);
    now = 500;
    first.finish();
    await settle();
    // The bookkeeping waited 500 ms: it goes before the question that came after it.
    expect(log).toEqual(['start first', 'start bookkeeping']);
  });

  it('join calls of one kind that wait into one statement, up to maxJoined, in call order', async () => {
    const lanes = new StatementLanes({ inFlight: 1, promoteAfterMs: 10_000, maxJoined: 3 });
    const log: string[] = [];
    const busy = gate(log, 'busy');
    void lanes.run(false, busy.statement);
    const batches: number[][] = [];
    const double = async (items: number[]) => {
      batches.push(items);
      return items.map((n) => n * 2);
    };
    const results = Promise.all([1, 2, 3, 4, 5].map((n) => lanes.join(false, double, n)));
    busy.finish();
    expect(await results).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('never join across lanes, or past a statement of another kind', async () => {
    const lanes = new StatementLanes({ inFlight: 1, promoteAfterMs: 10_000, maxJoined: 10 });
    const log: string[] = [];
    const busy = gate(log, 'busy');
    void lanes.run(false, busy.statement);
    const batches: string[][] = [];
    const kind = (name: string) => async (items: number[]) => {
      batches.push(items.map((n) => `${name}${n}`));
      return items;
    };
    const read = kind('r');
    const write = kind('w');
    const calls = [
      lanes.join(false, read, 1),
      lanes.join(false, write, 2),
      // The read waiting is not the last one in the lane: this read waits for the write before it.
      lanes.join(false, read, 3),
      inBackground(() => lanes.join(inBackgroundLane(), read, 4)),
    ];
    busy.finish();
    await Promise.all(calls);
    expect(batches).toEqual([['r1'], ['w2'], ['r3'], ['r4']]);
  });

  it('give every caller of a failed joined statement its error, and keep going', async () => {
    const lanes = new StatementLanes({ inFlight: 1, promoteAfterMs: 10_000, maxJoined: 4 });
    const log: string[] = [];
    const busy = gate(log, 'busy');
    void lanes.run(false, busy.statement);
    const failing = async (_items: number[]): Promise<number[]> => {
      throw new Error('SQLITE_FULL: database or disk is full');
    };
    const calls = [1, 2].map((n) => lanes.join(false, failing, n).catch((err: Error) => err.message));
    busy.finish();
    expect(await Promise.all(calls)).toEqual([
      'SQLITE_FULL: database or disk is full',
      'SQLITE_FULL: database or disk is full',
    ]);
    expect(await lanes.run(false, async () => 'next')).toBe('next');
    await lanes.idle();
    expect(lanes.waiting).toBe(0);
  });

  it('start a call at once when nothing waits (a quiet bot waits for nothing)', () => {
    const lanes = new StatementLanes({ inFlight: 2, promoteAfterMs: 500, maxJoined: 4 });
    const log: string[] = [];
    void lanes.run(false, gate(log, 'a').statement);
    void lanes.run(true, gate(log, 'b').statement);
    expect(log).toEqual(['start a', 'start b']);
  });
});
