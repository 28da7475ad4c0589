/**
 * What storing history costs as a conversation grows: bytes written and store round trips per append
 * and per load, and the time of one answer's history work (store the user's turn, read the prompt's
 * turns, store the answer), at 1, 100 and 1,000 turns of history, on SQLite and on Redis. The
 * conversation is at its cap (`maxTurns` = its length), the steady state of any long conversation: every
 * append also drops the oldest turn, and the length stays the same while it is measured.
 * `node bench/history.ts` (or `npm run bench -- --history`) runs it alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HistoryStore, type Turn } from '../src/core/history.ts';
import { createStore, type Store } from '../src/store/index.ts';
import { watchStoreTraffic } from '../test/support/store-traffic.ts';

export const HISTORY_LENGTHS = [1, 100, 1000] as const;
/** About 1 KB per turn: 1,000 turns are the 1 MB history of issue 10. */
const TURN_TEXT = 'lorem ipsum '.repeat(85);
const ROUNDS = 20;

/** The calls one answer makes; a v1-style store can be passed to compare (see docs/benchmarks.md). */
export interface HistoryLike {
  append(conversation: string, turn: Turn): Promise<unknown>;
  load(conversation: string): Promise<Turn[]>;
}

export type MakeHistory = (store: Store, maxTurns: number) => HistoryLike;

const v2: MakeHistory = (store, maxTurns) => new HistoryStore(store, { maxTurns, retentionMs: 86_400_000 });

const userTurn = (n: number): Turn => ({
  role: 'user',
  text: `${n} ${TURN_TEXT}`,
  at: n,
  authorId: 'U1',
  author: 'Alice',
});
const answerTurn = (n: number): Turn => ({
  role: 'assistant',
  text: `${n} ${TURN_TEXT}`,
  at: n,
  model: 'qwen-plus',
  status: 'complete',
});

export interface HistoryFigures {
  bytesPerAppend: number;
  roundTripsPerAppend: number;
  roundTripsPerLoad: number;
  msPerAppend: number;
  msPerLoad: number;
}

/**
 * Fills a conversation to `length` turns, then measures ROUNDS answers' worth of history calls:
 * append the user's turn, load the prompt's turns, append the answer.
 */
export async function measureHistory(
  store: Store,
  make: MakeHistory,
  length: number,
): Promise<HistoryFigures> {
  const history = make(store, length);
  const conversation = `bench:W:H${length}:${Date.now()}`;
  for (let n = 0; n < length; n++) await history.append(conversation, n % 2 ? answerTurn(n) : userTurn(n));
  const { traffic, reset } = watchStoreTraffic(store);
  const sum = { appendBytes: 0, appendTrips: 0, appendMs: 0, loadTrips: 0, loadMs: 0 };
  const append = async (turn: Turn) => {
    reset();
    const start = performance.now();
    await history.append(conversation, turn);
    sum.appendMs += performance.now() - start;
    sum.appendBytes += traffic.bytesWritten;
    sum.appendTrips += traffic.roundTrips;
  };
  for (let round = 0; round < ROUNDS; round++) {
    const n = length + round * 2;
    await append(userTurn(n));
    reset();
    const start = performance.now();
    await history.load(conversation);
    sum.loadMs += performance.now() - start;
    sum.loadTrips += traffic.roundTrips;
    await append(answerTurn(n + 1));
  }
  return {
    bytesPerAppend: sum.appendBytes / (2 * ROUNDS),
    roundTripsPerAppend: sum.appendTrips / (2 * ROUNDS),
    roundTripsPerLoad: sum.loadTrips / ROUNDS,
    msPerAppend: sum.appendMs / (2 * ROUNDS),
    msPerLoad: sum.loadMs / ROUNDS,
  };
}

/** Every figure on SQLite (a temp file) and on Redis (own namespace, deleted after); Redis is skipped when unreachable. */
export async function benchHistory(
  make: MakeHistory = v2,
  log: (line: string) => void = () => {},
): Promise<Record<string, number | null>> {
  const figures: Record<string, number | null> = {};
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const backends: Array<[string, () => Promise<Store>]> = [
    [
      'sqlite',
      () =>
        createStore(`sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-bench-')), 'h.sqlite')}`),
    ],
    ['redis', () => createStore(redisUrl, { namespace: `qwenbot-bench-history-${process.pid}` })],
  ];
  for (const [name, open] of backends) {
    let store: Store | undefined;
    try {
      store = await open();
      for (const length of HISTORY_LENGTHS) {
        log(`history: ${name}, ${length} turns…`);
        const f = await measureHistory(store, make, length);
        figures[`history_bytes_per_append_${name}_${length}`] = Math.round(f.bytesPerAppend);
        figures[`history_round_trips_per_append_${name}_${length}`] = f.roundTripsPerAppend;
        figures[`history_round_trips_per_load_${name}_${length}`] = f.roundTripsPerLoad;
        figures[`history_ms_per_append_${name}_${length}`] = Math.round(f.msPerAppend * 100) / 100;
        figures[`history_ms_per_load_${name}_${length}`] = Math.round(f.msPerLoad * 100) / 100;
      }
    } catch (err) {
      log(`history on ${name}: skipped (${(err as Error).message})`);
      for (const length of HISTORY_LENGTHS) figures[`history_bytes_per_append_${name}_${length}`] ??= null;
    } finally {
      // Leave nothing behind (the Redis run's namespace; the SQLite file is in a temp folder).
      await store?.clear().catch(() => undefined);
      await store?.disconnect().catch(() => undefined);
    }
  }
  return figures;
}

if (import.meta.main) {
  const figures = await benchHistory(v2, (line) => process.stderr.write(`${line}\n`));
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(44)} ${v ?? 'n/a'}\n`);
  process.exit(0);
}
