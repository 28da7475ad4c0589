/**
 * Benchmarks of the bot's own cost: overhead between the model and the chat surface, complete turns
 * per second on SQLite and Redis, memory per conversation, and a bare-SDK baseline. All traffic stays
 * on 127.0.0.1 (the DashScope simulator with no delays, a recording surface with no latency).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { pino } from 'pino';
import { type App, createApp } from '../src/app.ts';
import type { ReplySurface } from '../src/core/types.ts';
import type { QwenClient } from '../src/qwen/client.ts';
import { inBackground } from '../src/store/statement-lanes.ts';
import { message, TEST_API_KEY, testConfig } from '../test/support/harness.ts';
import { watchStoreTraffic } from '../test/support/store-traffic.ts';
import type { SimTiming } from './sim-process.ts';

export interface Timings {
  /** Event → first visible text, minus the model's own time to first token. */
  firstEdit: number[];
  /** Model's last token → final edit done. */
  finalEdit: number[];
  /** Store statements (SQLite) or adapter calls (Redis) per turn, bookkeeping included. */
  storeTripsPerTurn: number;
}

const quiet = () => pino({ level: 'silent' });

export async function openBenchApp(
  sim: { baseUrl: string },
  storeUrl: string,
  namespace?: string,
): Promise<App> {
  const config = testConfig(sim.baseUrl, storeUrl, {
    faq: { enabled: false },
    guards: { userMessagesPerWindow: 1_000_000, dedupeSeconds: 60 },
    history: { maxTurns: 20 },
  });
  return createApp(config, { log: quiet(), namespace });
}

/** Instruments the Qwen client: when the request went out, the first and the last token arrived. */
export function instrument(
  qwen: QwenClient,
  marks: Map<string, { sent: number; first?: number; last?: number }>,
): void {
  const original = qwen.streamChat.bind(qwen);
  qwen.streamChat = async function* (req) {
    const id = String((req.messages.at(-1)?.content as string) ?? '').replace(/^Alice: /, '');
    const mark = { sent: performance.now() } as { sent: number; first?: number; last?: number };
    marks.set(id, mark);
    const gen = original(req);
    for (let n = await gen.next(); ; n = await gen.next()) {
      if (n.done) {
        mark.last = performance.now();
        return n.value;
      }
      if (mark.first === undefined && n.value.type === 'text') mark.first = performance.now();
      yield n.value;
    }
  };
}

/** A chat surface with no latency that notes when text first became visible and when the last edit landed. */
export function timedSurface(
  minEditIntervalMs = 0,
): ReplySurface & { firstText?: number; lastEdit?: number } {
  let seq = 0;
  const surface: ReplySurface & { firstText?: number; lastEdit?: number } = {
    limits: { maxChars: 2000, minEditIntervalMs, paceBucket: `bench-${Math.random()}` },
    async post(text) {
      if (surface.firstText === undefined && text !== '…') surface.firstText = performance.now();
      surface.lastEdit = performance.now();
      return { id: `m${++seq}` };
    },
    async edit(_m, text) {
      if (surface.firstText === undefined && text !== '…') surface.firstText = performance.now();
      surface.lastEdit = performance.now();
    },
  };
  return surface;
}

/**
 * `concurrency` conversations talking at once, each sending its next message when the previous answer
 * is complete (a closed loop), `rounds` messages each; returns overhead samples in ms.
 */
export async function measureOverhead(app: App, concurrency: number, rounds: number): Promise<Timings> {
  const marks = new Map<string, { sent: number; first?: number; last?: number }>();
  instrument(app.qwen, marks);
  const timings: Timings = { firstEdit: [], finalEdit: [], storeTripsPerTurn: 0 };
  const { traffic } = watchStoreTraffic(app.store);
  await closedLoop(concurrency, rounds, async (i, text) => {
    const surface = timedSurface();
    const start = performance.now();
    await app.service.handleMessage(
      message(text, {
        conversation: { platform: 'bench', workspace: 'W', channel: `C${i}`, isDM: true },
      }),
      surface,
    );
    const mark = marks.get(text);
    marks.delete(text);
    if (!mark?.first || !mark.last || surface.firstText === undefined || surface.lastEdit === undefined)
      return;
    const modelTtft = mark.first - mark.sent;
    timings.firstEdit.push(surface.firstText - start - modelTtft);
    timings.finalEdit.push(surface.lastEdit - mark.last);
  });
  await app.service.queue.idle();
  await app.service.inflight.flush();
  timings.storeTripsPerTurn = traffic.roundTrips / (concurrency * rounds);
  return timings;
}

/**
 * `concurrency` conversations (0…concurrency-1), each sending `rounds` messages one after another:
 * `turn` gets the conversation and the message's text (unique per message).
 */
async function closedLoop(
  concurrency: number,
  rounds: number,
  turn: (conversation: number, text: string) => Promise<void>,
): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      for (let round = 0; round < rounds; round++) await turn(i, `r${round} c${i} hello`);
    }),
  );
}

/** Complete turns per second: history load, prompt, stream, edits, history save. */
export function measureTurns(app: App, total: number, concurrency: number): Promise<number> {
  return turnsPerSecond(total, concurrency, (n, worker) =>
    app.service
      .handleMessage(
        message(`turn ${n}`, {
          conversation: { platform: 'bench', workspace: 'W', channel: `T${worker}-${n % 10}`, isDM: true },
        }),
        timedSurface(),
      )
      .then(() => undefined),
  );
}

/** `total` turns, `concurrency` at a time (turn n on worker `worker`); returns turns per second. */
async function turnsPerSecond(
  total: number,
  concurrency: number,
  turn: (n: number, worker: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < total) await turn(next++, worker);
    }),
  );
  return total / ((performance.now() - start) / 1000);
}

/** One request to "the platform" with the final text (the simulator stands in for it). */
async function platformPost(sim: { baseUrl: string }, text: string): Promise<void> {
  await fetch(`${sim.baseUrl}/platform-post`, { method: 'POST', body: text }).then((r) => r.arrayBuffer());
}

/** One streamed answer read with the bare openai SDK and nothing else: the text. */
export async function bareSdkAnswer(sdk: OpenAI, question: string): Promise<string> {
  const stream = await sdk.chat.completions.create({
    model: 'qwen-plus',
    messages: [{ role: 'user', content: question }],
    stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

/** The same turn with the bare openai SDK and one fetch to a platform-like endpoint. */
export function measureBaseline(
  sim: { baseUrl: string },
  total: number,
  concurrency: number,
): Promise<number> {
  const sdk = new OpenAI({ apiKey: TEST_API_KEY, baseURL: sim.baseUrl, maxRetries: 0 });
  return turnsPerSecond(total, concurrency, async (n) =>
    platformPost(sim, await bareSdkAnswer(sdk, `turn ${n}`)),
  );
}

/**
 * The bare-SDK turn plus the least store work issue 15 §4 allows a turn: one batched read before the
 * model call (two keys: the conversation's meta and one more) and one batched write after it
 * (question, answer and meta) in the background lane, as the bot writes once an answer is shown, on
 * the bot's own store. No dedupe claim, usage or crash-repair record: a floor under any bot that
 * remembers conversations, to read the bot's figures against. Returns the ms from the turn's start to
 * its model request (the read): the floor's share of `firstEdit`, whose surface shows tokens at once.
 */
async function minimalTurn(
  sim: { baseUrl: string },
  sdk: OpenAI,
  store: App['store'],
  conversation: string,
  question: string,
): Promise<number> {
  const start = performance.now();
  const [meta] = await store.getMany<{ next: number }>([`${conversation}:meta`, `${conversation}:docs`]);
  const beforeModel = performance.now() - start;
  const text = await bareSdkAnswer(sdk, question);
  await platformPost(sim, text);
  const seq = meta?.next ?? 0;
  await inBackground(() =>
    store.setMany([
      { key: `${conversation}:turn:${seq}`, value: { role: 'user', text: question } },
      { key: `${conversation}:turn:${seq + 1}`, value: { role: 'assistant', text } },
      { key: `${conversation}:meta`, value: { next: seq + 2 } },
    ]),
  );
  return beforeModel;
}

const floorSdk = (sim: { baseUrl: string }) =>
  new OpenAI({ apiKey: TEST_API_KEY, baseURL: sim.baseUrl, maxRetries: 0 });

/** `minimalTurn`s, `concurrency` at a time: turns per second. */
export function measureMinimalTurns(
  sim: { baseUrl: string },
  store: App['store'],
  total: number,
  concurrency: number,
): Promise<number> {
  const sdk = floorSdk(sim);
  return turnsPerSecond(total, concurrency, async (n, worker) => {
    await minimalTurn(sim, sdk, store, `minimal:${worker}-${n % 10}`, `turn ${n}`);
  });
}

/**
 * `minimalTurn`s in the closed loop of `measureOverhead` (`concurrency` conversations, `rounds` turns
 * each): the ms before each model request, the floor under `overhead_first_edit_*`.
 */
export async function measureMinimalOverhead(
  sim: { baseUrl: string },
  store: App['store'],
  concurrency: number,
  rounds: number,
): Promise<number[]> {
  const sdk = floorSdk(sim);
  const samples: number[] = [];
  await closedLoop(concurrency, rounds, async (i, text) => {
    samples.push(await minimalTurn(sim, sdk, store, `minimal-loop:${i}`, text));
  });
  return samples;
}

export interface TurnRatio {
  /** Median over the rounds (turns per second). */
  botTurnsPerS: number;
  baselineTurnsPerS: number;
  /** Median over the rounds of bot ÷ baseline, each pair measured back to back. */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  /** CPU of this process per turn (main thread and SQLite's threads; the simulator is elsewhere), median. */
  botCpuMsPerTurn: number;
  baselineCpuMsPerTurn: number;
  rounds: number;
}

const median = (xs: number[]) => percentile(xs, 50);

/**
 * SQLite turns per second against the bare-SDK baseline, made comparable on a shared machine: one
 * warm-up round of each (JIT, SQLite's page cache), then `rounds` pairs run back to back, alternating
 * which goes first, so a burst of other work hits both about equally; the ratio is the median of the
 * pairs' ratios. CPU per turn is given too: unlike turns per second it hardly depends on how much of
 * the machine the process got.
 */
export async function measureTurnRatio(
  app: App,
  sim: { baseUrl: string },
  opts: {
    turns: number;
    concurrency: number;
    rounds: number;
    /** What runs instead of the bot's turns (turns per second), e.g. `measureMinimalTurns`. */
    contender?: (turns: number, concurrency: number) => Promise<number>;
  },
): Promise<TurnRatio> {
  const { turns, concurrency, rounds } = opts;
  const measureBot = opts.contender ?? ((n: number, c: number) => measureTurns(app, n, c));
  const warm = Math.max(50, Math.round(turns / 4));
  await measureBot(warm, concurrency);
  await measureBaseline(sim, warm, concurrency);
  const bot: number[] = [];
  const base: number[] = [];
  const botCpu: number[] = [];
  const baseCpu: number[] = [];
  const timed = async (f: () => Promise<number>, rates: number[], cpus: number[]) => {
    const cpu = process.cpuUsage();
    rates.push(await f());
    const used = process.cpuUsage(cpu);
    cpus.push((used.user + used.system) / 1000 / turns);
  };
  for (let r = 0; r < rounds; r++) {
    const runBot = () => timed(() => measureBot(turns, concurrency), bot, botCpu);
    const runBase = () => timed(() => measureBaseline(sim, turns, concurrency), base, baseCpu);
    if (r % 2 === 0) {
      await runBot();
      await runBase();
    } else {
      await runBase();
      await runBot();
    }
  }
  const ratios = bot.map((b, i) => b / (base[i] ?? Number.NaN));
  return {
    botTurnsPerS: median(bot),
    baselineTurnsPerS: median(base),
    ratio: median(ratios),
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
    botCpuMsPerTurn: median(botCpu),
    baselineCpuMsPerTurn: median(baseCpu),
    rounds,
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function sqliteUrl(): string {
  return `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-bench-')), 'bench.sqlite')}`;
}

/** The simulator as the benchmarks see it: its URL, and what it measured of each chat request. */
export interface BenchSim {
  baseUrl: string;
  /** Per chat request since the last call: the last message's text and the model's own time to first token. */
  timings(): Promise<SimTiming[]>;
}

/**
 * A simulator in a child process (its CPU is not the bot's). With `pace` it streams like a real model
 * (first-token delay, then about one 4-character token per chunk).
 */
export async function withSim<T>(
  fn: (sim: BenchSim) => Promise<T>,
  opts: { pace?: { firstTokenDelayMs: number; tokensPerSecond: number }; answer?: string } = {},
): Promise<T> {
  const env = {
    ...process.env,
    ...(opts.pace ? { SIM_PACE: `${opts.pace.firstTokenDelayMs},${opts.pace.tokensPerSecond}` } : {}),
    ...(opts.answer ? { SIM_ANSWER: opts.answer } : {}),
  };
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'sim-process.ts')], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env,
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) =>
      resolve((JSON.parse(d.toString()) as { baseUrl: string }).baseUrl),
    );
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const timings = () =>
    new Promise<SimTiming[]>((resolve) => {
      child.once('message', (m: { timings: SimTiming[] }) => resolve(m.timings));
      child.send({ type: 'timings' });
    });
  try {
    return await fn({ baseUrl, timings });
  } finally {
    child.kill('SIGTERM');
  }
}
