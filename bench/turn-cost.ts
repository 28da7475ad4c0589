/**
 * What one complete answer turn costs the store: round trips (SQL queries on SQLite; Keyv adapter calls
 * plus coordination commands on Redis) and bytes written, through the real ConversationService, in a
 * conversation of 1 and of 1,000 turns. The 1,000-turn conversation is at its cap (`maxTurns` 1,000),
 * the steady state of a long conversation: the turn also drops the oldest ones. A turn's count runs from
 * the message to the last deferred bookkeeping write (queue idle, in-flight records flushed).
 * `node bench/turn-cost.ts` (or `npm run bench -- --turn-cost`) runs it alone.
 */
import { pino } from 'pino';
import { type App, createApp } from '../src/app.ts';
import type { Turn } from '../src/core/history.ts';
import { type ConversationRef, conversationKey, type ReplySurface } from '../src/core/types.ts';
import type { RedisCoordinator } from '../src/store/coordination.ts';
import { message, testConfig } from '../test/support/harness.ts';
import { watchStoreTraffic } from '../test/support/store-traffic.ts';
import { sqliteUrl, withSim } from './core.ts';

const ROUNDS = 10;
const LONG = 1000;
/** About 1 KB per stored turn, as in bench/history.ts. */
const TURN_TEXT = 'lorem ipsum '.repeat(85);

export interface TurnCost {
  /** Keyv store trips (on SQLite this includes the local coordination, which lives in the store). */
  storeRoundTrips: number;
  /** Redis coordination commands (turn tickets, heartbeats, claims, counters, limiters); 0 on SQLite. */
  coordinationRoundTrips: number;
  bytesWritten: number;
}

/** Counts every command the coordinator's Redis client sends: one per command, one per MULTI or pipeline. */
function watchRedisCommands(coordinator: RedisCoordinator): { count: () => number; reset: () => void } {
  const client = coordinator.client as unknown as Record<string, unknown>;
  // node-redis runs single commands (and scripts) through its inner `_self`, MULTI and pipelines
  // through functions bound on the client itself.
  const inner = (client._self ?? client) as Record<string, unknown>;
  let commands = 0;
  const targets: Array<[Record<string, unknown>, string]> = [
    [inner, 'sendCommand'],
    [client, '_executeMulti'],
    [client, '_executePipeline'],
  ];
  for (const [target, name] of targets) {
    const original = target[name];
    // A silent miss would under-count; better no figure than a wrong one.
    if (typeof original !== 'function') throw new Error(`cannot count Redis commands: no client.${name}`);
    target[name] = function (this: unknown, ...args: unknown[]) {
      commands++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return {
    count: () => commands,
    reset: () => {
      commands = 0;
    },
  };
}

const surface = (): ReplySurface => {
  let seq = 0;
  return {
    limits: { maxChars: 2000, minEditIntervalMs: 0, paceBucket: `turn-cost-${Math.random()}` },
    async post() {
      return { id: `m${++seq}` };
    },
    async edit() {},
  };
};

const storedTurn = (n: number): Turn =>
  n % 2
    ? { role: 'assistant', text: `${n} ${TURN_TEXT}`, at: Date.now(), model: 'qwen-plus', status: 'complete' }
    : { role: 'user', text: `${n} ${TURN_TEXT}`, at: Date.now(), authorId: 'U1', author: 'Alice' };

async function fill(app: App, ref: ConversationRef, turns: number): Promise<void> {
  const key = conversationKey(ref);
  for (let n = 0; n < turns; n++) await app.service.history.append(key, storedTurn(n));
}

/** Average cost of one answer turn in a conversation that holds `length` turns before it. */
async function measure(app: App, length: number): Promise<TurnCost> {
  const { traffic, reset } = watchStoreTraffic(app.store);
  const redis = app.coordinator.shared ? watchRedisCommands(app.coordinator as RedisCoordinator) : undefined;
  // The store and the coordinator share one Redis client: its count includes the Keyv adapter's calls
  // (one command or MULTI each), which are the store's side.
  const sharedClient =
    redis !== undefined &&
    (app.store.store as { client?: unknown }).client === (app.coordinator as RedisCoordinator).client;
  const sum: TurnCost = { storeRoundTrips: 0, coordinationRoundTrips: 0, bytesWritten: 0 };
  const long: ConversationRef = { platform: 'bench', workspace: 'W', channel: `L${Date.now()}`, isDM: true };
  if (length === LONG) await fill(app, long, LONG);
  for (let round = 0; round < ROUNDS; round++) {
    // A short conversation stays short: a fresh one each round, holding `length` turns.
    const ref =
      length === LONG
        ? long
        : { platform: 'bench', workspace: 'W', channel: `S${Date.now()}-${round}`, isDM: true };
    if (length !== LONG) await fill(app, ref, length);
    await app.service.queue.idle();
    await app.service.inflight.flush();
    reset();
    redis?.reset();
    const outcome = await app.service.handleMessage(
      message(`question ${round}`, { conversation: ref }),
      surface(),
    );
    if (outcome.status !== 'answered') throw new Error(`turn-cost: the turn ended ${outcome.status}`);
    await app.service.queue.idle();
    await app.service.inflight.flush();
    sum.storeRoundTrips += traffic.roundTrips;
    sum.bytesWritten += traffic.bytesWritten;
    sum.coordinationRoundTrips += (redis?.count() ?? 0) - (sharedClient ? traffic.roundTrips : 0);
  }
  return {
    storeRoundTrips: sum.storeRoundTrips / ROUNDS,
    coordinationRoundTrips: sum.coordinationRoundTrips / ROUNDS,
    bytesWritten: sum.bytesWritten / ROUNDS,
  };
}

async function openApp(sim: { baseUrl: string }, storeUrl: string, namespace?: string): Promise<App> {
  const config = testConfig(sim.baseUrl, storeUrl, {
    faq: { enabled: false },
    guards: { userMessagesPerWindow: 1_000_000, dedupeSeconds: 60 },
    history: { maxTurns: LONG },
  });
  return createApp(config, { log: pino({ level: 'silent' }), namespace });
}

/** The figures on SQLite (a temp file) and Redis (own namespace, deleted after; null when unreachable). */
export async function benchTurnCost(
  sim: { baseUrl: string },
  log: (line: string) => void = () => {},
): Promise<Record<string, number | null>> {
  const figures: Record<string, number | null> = {};
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const backends: Array<[string, () => Promise<App>]> = [
    ['sqlite', () => openApp(sim, sqliteUrl())],
    ['redis', () => openApp(sim, redisUrl, `qwenbot-bench-turn-${process.pid}`)],
  ];
  for (const [name, open] of backends) {
    let app: App | undefined;
    try {
      app = await open();
      for (const length of [1, LONG]) {
        log(`turn cost: ${name}, ${length} turn(s) of history…`);
        const cost = await measure(app, length);
        const at = `_at_${length}_turn${length === 1 ? '' : 's'}`;
        const trips = cost.storeRoundTrips + cost.coordinationRoundTrips;
        figures[`store_round_trips_per_turn_${name}${length === 1 ? '' : at}`] = trips;
        if (name === 'redis') {
          figures[`store_round_trips_per_turn_redis_keyv${length === 1 ? '' : at}`] = cost.storeRoundTrips;
          figures[`store_round_trips_per_turn_redis_coordination${length === 1 ? '' : at}`] =
            cost.coordinationRoundTrips;
        }
        figures[`history_bytes_written_per_turn${at}_${name}`] = Math.round(cost.bytesWritten);
      }
    } catch (err) {
      log(`turn cost on ${name}: skipped (${(err as Error).message})`);
      figures[`store_round_trips_per_turn_${name}`] ??= null;
    } finally {
      if (app) {
        await app.service.queue.idle().catch(() => undefined);
        await app.service.inflight.flush().catch(() => undefined);
        if (name === 'redis') {
          await app.store.clear().catch(() => undefined);
          await (app.coordinator as RedisCoordinator).clearAll?.().catch(() => undefined);
        }
        await app.close().catch(() => undefined);
      }
    }
  }
  // The plain keys are SQLite's, the embedded default.
  figures.store_round_trips_per_turn = figures.store_round_trips_per_turn_sqlite ?? null;
  figures.history_bytes_written_per_turn_at_1_turn =
    figures.history_bytes_written_per_turn_at_1_turn_sqlite ?? null;
  figures.history_bytes_written_per_turn_at_1000_turns =
    figures.history_bytes_written_per_turn_at_1000_turns_sqlite ?? null;
  return figures;
}

if (import.meta.main) {
  const figures = await withSim((sim) => benchTurnCost(sim, (line) => process.stderr.write(`${line}\n`)));
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(52)} ${v ?? 'n/a'}\n`);
  process.exit(0);
}
