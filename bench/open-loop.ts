/**
 * Open-loop benchmark: messages arrive on a fixed schedule, whatever the bot is doing, at the rate that
 * keeps ~100 answers streaming at once, against a simulator paced like a real model (first token after
 * 400 ms, then ~40 tokens/s, ~3 s per answer). Reports the latency the bot adds before the first words
 * are visible (event → first visible text, minus the model's own time to first token: as the bot's
 * client saw it, and — `_strict` — as the simulator measured it, so the bot's own delay in reading the
 * first token counts as the bot's), its two parts (before the request went out; first token → visible),
 * the event → first visible time itself, and the bot's CPU per answer (the process's user + system time,
 * SQLite's worker threads included; the simulator runs in its own process). A warm-up of one wave at
 * the same pace comes first and is not counted. The surface has no latency and the platform's edit
 * spacing of 1 s; the bot's `streaming.minEditIntervalMs` is the shipped default.
 * `node bench/open-loop.ts` runs it alone (`--sqlite`: without the Redis run).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import OpenAI from 'openai';
import { pino } from 'pino';
import { type App, createApp } from '../src/app.ts';
import type { RedisCoordinator } from '../src/store/coordination.ts';
import { message, TEST_API_KEY, testConfig } from '../test/support/harness.ts';
import {
  type BenchSim,
  bareSdkAnswer,
  instrument,
  percentile,
  sqliteUrl,
  timedSurface,
  withSim,
} from './core.ts';

export const OPEN_LOOP_PACE = { firstTokenDelayMs: 400, tokensPerSecond: 40 };
/** ~100 tokens of 4 characters: 2.5 s of streaming at 40 tokens/s. */
export const OPEN_LOOP_ANSWER = 'words that stream at the pace of a real model, '.repeat(9).trim();
const ANSWER_MS = OPEN_LOOP_PACE.firstTokenDelayMs + (OPEN_LOOP_ANSWER.length / 4 / 40) * 1000;

export interface OpenLoopFigures {
  answers: number;
  /** Most answers streaming at the same moment. */
  maxConcurrent: number;
  /** Event → first visible text, minus the model's time to first token as the bot's client saw it. */
  addedP50: number;
  addedP99: number;
  /** The same minus the time to first token the simulator measured itself (see docs/benchmarks.md). */
  addedStrictP50: number;
  addedStrictP99: number;
  /** The part before the model request went out (guards, history, prompt). */
  beforeRequestP50: number;
  beforeRequestP99: number;
  /** The part from the client handing out the first token to the surface showing it. */
  tokenToVisibleP99: number;
  firstVisibleP50: number;
  firstVisibleP99: number;
  cpuMsPerAnswer: number;
}

async function openApp(sim: { baseUrl: string }, storeUrl: string, namespace?: string): Promise<App> {
  const config = testConfig(sim.baseUrl, storeUrl, {
    faq: { enabled: false },
    guards: { userMessagesPerWindow: 1_000_000, dedupeSeconds: 60 },
    history: { maxTurns: 20 },
    streaming: { minEditIntervalMs: 1000 },
    qwen: { totalTimeoutMs: 120_000, firstTokenTimeoutMs: 60_000 },
  });
  return createApp(config, { log: pino({ level: 'silent' }), namespace });
}

interface Sample {
  id: string;
  firstVisible: number;
  beforeRequest: number;
  clientTtft: number;
  tokenToVisible: number;
}

/** Starts `run(i)` for i = 0 … total − 1, one every `intervalMs`, whatever the earlier ones are doing; resolves when all are done. */
async function arrivals(
  total: number,
  intervalMs: number,
  run: (i: number) => Promise<unknown>,
): Promise<void> {
  const start = performance.now();
  const runs: Array<Promise<unknown>> = [];
  for (let i = 0; i < total; i++) {
    const wait = start + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    runs.push(run(i));
  }
  await Promise.all(runs);
}

/** `total` messages, one every `ANSWER_MS / concurrency` ms, each in its own conversation. */
async function runOpenLoop(
  app: App,
  marks: Map<string, { sent: number; first?: number }>,
  concurrency: number,
  total: number,
  tag: string,
): Promise<{ samples: Sample[]; maxConcurrent: number }> {
  const samples: Sample[] = [];
  let streaming = 0;
  let maxConcurrent = 0;
  await arrivals(total, ANSWER_MS / concurrency, async (i) => {
    const surface = timedSurface(1000);
    const text = `open loop ${tag}${i}`;
    const at = performance.now();
    streaming++;
    maxConcurrent = Math.max(maxConcurrent, streaming);
    const outcome = await app.service.handleMessage(
      message(text, {
        conversation: { platform: 'bench', workspace: 'W', channel: `O${tag}${i}`, isDM: true },
      }),
      surface,
    );
    streaming--;
    const mark = marks.get(text);
    marks.delete(text);
    if (outcome.status !== 'answered') throw new Error(`open loop: answer ${i} ended ${outcome.status}`);
    if (!mark?.first || surface.firstText === undefined) throw new Error(`open loop: answer ${i} not timed`);
    samples.push({
      id: text,
      firstVisible: surface.firstText - at,
      beforeRequest: mark.sent - at,
      clientTtft: mark.first - mark.sent,
      tokenToVisible: surface.firstText - mark.first,
    });
  });
  await app.service.queue.idle();
  await app.service.inflight.flush();
  return { samples, maxConcurrent };
}

/**
 * A warm-up of `warmup` answers at the same pace (a fresh process compiles its code on the first
 * ones; a bot that has run for a minute has not), then `total` measured answers.
 */
export async function measureOpenLoop(
  app: App,
  sim: BenchSim,
  concurrency: number,
  total: number,
  warmup = Math.min(total, concurrency),
): Promise<OpenLoopFigures> {
  const marks = new Map<string, { sent: number; first?: number; last?: number }>();
  instrument(app.qwen, marks);
  if (warmup > 0) await runOpenLoop(app, marks, concurrency, warmup, 'w');
  await sim.timings();
  const cpu = process.cpuUsage();
  const { samples, maxConcurrent } = await runOpenLoop(app, marks, concurrency, total, '');
  const used = process.cpuUsage(cpu);
  const simTtft = new Map(
    (await sim.timings()).map((t) => [t.lastMessage.replace(/^Alice: /, ''), t.ttftMs]),
  );
  const strict = samples.map((s) => {
    const ttft = simTtft.get(s.id);
    if (ttft === undefined) throw new Error(`open loop: the simulator did not time ${s.id}`);
    return s.firstVisible - ttft;
  });
  const pick = (f: (s: Sample) => number) => samples.map(f);
  const added = pick((s) => s.firstVisible - s.clientTtft);
  return {
    answers: total,
    maxConcurrent,
    addedP50: percentile(added, 50),
    addedP99: percentile(added, 99),
    addedStrictP50: percentile(strict, 50),
    addedStrictP99: percentile(strict, 99),
    beforeRequestP50: percentile(
      pick((s) => s.beforeRequest),
      50,
    ),
    beforeRequestP99: percentile(
      pick((s) => s.beforeRequest),
      99,
    ),
    tokenToVisibleP99: percentile(
      pick((s) => s.tokenToVisible),
      99,
    ),
    firstVisibleP50: percentile(
      pick((s) => s.firstVisible),
      50,
    ),
    firstVisibleP99: percentile(
      pick((s) => s.firstVisible),
      99,
    ),
    cpuMsPerAnswer: (used.user + used.system) / 1000 / total,
  };
}

/**
 * The floor under the bot's CPU per answer: the bare openai SDK reading the same streams at the same
 * pace and arrival rate, and nothing else (no chat surface, no store). A warm-up wave first.
 */
async function bareSdkCpuMsPerAnswer(sim: BenchSim, concurrency: number, total: number): Promise<number> {
  const sdk = new OpenAI({ apiKey: TEST_API_KEY, baseURL: sim.baseUrl, maxRetries: 0 });
  const wave = (n: number) =>
    arrivals(n, ANSWER_MS / concurrency, (i) => bareSdkAnswer(sdk, `bare sdk ${i}`));
  await wave(concurrency);
  await sim.timings();
  const cpu = process.cpuUsage();
  await wave(total);
  const used = process.cpuUsage(cpu);
  await sim.timings();
  return (used.user + used.system) / 1000 / total;
}

const round = (n: number, digits = 1) =>
  Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null;

/** The figures on SQLite and (when reachable) Redis, under `open_loop_*` keys. */
export async function benchOpenLoop(
  log: (line: string) => void = () => {},
  total = 300,
  backends: ReadonlyArray<'sqlite' | 'redis'> = ['sqlite', 'redis'],
): Promise<Record<string, number | null>> {
  // Other work on the machine takes CPU from the bot: figures taken under load are upper bounds.
  const figures: Record<string, number | null> = { open_loop_load_avg_1m: round(os.loadavg()[0] ?? 0, 2) };
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await withSim(
    async (sim) => {
      // The same at ~10 answers at once: what the bot adds when the process is not saturated.
      const light = await openApp(sim, sqliteUrl());
      try {
        log('open loop: 60 answers, ~10 at once, paced model, sqlite…');
        // One wave of 10 warms a fresh process too little (its first answers compile the code).
        const f = await measureOpenLoop(light, sim, 10, 60, 60);
        figures.open_loop_added_latency_p50_ms_at_10 = round(f.addedP50);
        figures.open_loop_added_latency_p99_ms_at_10 = round(f.addedP99);
        figures.open_loop_added_latency_strict_p99_ms_at_10 = round(f.addedStrictP99);
        figures.open_loop_cpu_ms_per_answer_at_10 = round(f.cpuMsPerAnswer, 2);
      } finally {
        await light.close();
      }
      log(`open loop: ${total} answers, ~100 at once, the bare SDK (the floor for CPU per answer)…`);
      figures.open_loop_cpu_ms_per_answer_bare_sdk = round(await bareSdkCpuMsPerAnswer(sim, 100, total), 2);
      for (const backend of backends) {
        const suffix = backend === 'sqlite' ? '' : '_redis';
        let app: App | undefined;
        try {
          log(`open loop: ${total} answers, ~100 at once, paced model, ${backend}…`);
          app =
            backend === 'sqlite'
              ? await openApp(sim, sqliteUrl())
              : await openApp(sim, redisUrl, `qwenbot-bench-open-${process.pid}`);
          const f = await measureOpenLoop(app, sim, 100, total);
          figures[`open_loop_added_latency_p50_ms${suffix}`] = round(f.addedP50);
          figures[`open_loop_added_latency_p99_ms${suffix}`] = round(f.addedP99);
          figures[`open_loop_added_latency_strict_p50_ms${suffix}`] = round(f.addedStrictP50);
          figures[`open_loop_added_latency_strict_p99_ms${suffix}`] = round(f.addedStrictP99);
          figures[`open_loop_before_request_p50_ms${suffix}`] = round(f.beforeRequestP50);
          figures[`open_loop_before_request_p99_ms${suffix}`] = round(f.beforeRequestP99);
          figures[`open_loop_token_to_visible_p99_ms${suffix}`] = round(f.tokenToVisibleP99);
          figures[`open_loop_first_visible_p50_ms${suffix}`] = round(f.firstVisibleP50);
          figures[`open_loop_first_visible_p99_ms${suffix}`] = round(f.firstVisibleP99);
          figures[`open_loop_cpu_ms_per_answer${suffix}`] = round(f.cpuMsPerAnswer, 2);
          figures[`open_loop_max_concurrent${suffix}`] = f.maxConcurrent;
        } catch (err) {
          log(`open loop on ${backend}: skipped (${(err as Error).message})`);
          figures[`open_loop_added_latency_p99_ms${suffix}`] ??= null;
        } finally {
          if (app && backend === 'redis') {
            await app.store.clear().catch(() => undefined);
            await (app.coordinator as RedisCoordinator).clearAll?.().catch(() => undefined);
          }
          await app?.close().catch(() => undefined);
        }
      }
    },
    { pace: OPEN_LOOP_PACE, answer: OPEN_LOOP_ANSWER },
  );
  return figures;
}

/**
 * `benchOpenLoop` in a fresh child process started with `flags`: the figures of this file's own
 * `--json`. `npm run bench` takes every open-loop figure this way, so none carries the heap the earlier
 * benchmarks left in its process (measured: 187 MB of heap there, and one 93 ms collection of it landing
 * inside the window of ~100 answers).
 */
export function openLoopInChild(
  flags: string[],
  total = 300,
  backends?: ReadonlyArray<'sqlite' | 'redis'>,
): Record<string, number | null> {
  const out = execFileSync(
    process.execPath,
    [
      ...flags,
      import.meta.filename,
      ...(backends?.length === 1 && backends[0] === 'sqlite' ? ['--sqlite'] : []),
      '--json',
      `--total=${total}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return JSON.parse(out) as Record<string, number | null>;
}

/**
 * The SQLite run at ~100 answers again, under the Node flags `npm start` uses (bench/memory.ts
 * startFlags): the default figures run under Node's defaults, and the start script's memory flags cost
 * CPU per answer (docs/benchmarks.md). Keys end in `_start_flags` (`npm start`) or `_busy_profile`
 * (`npm run start:busy`).
 */
export function benchOpenLoopWithStartFlags(
  flags: string[],
  total = 300,
  suffix = '_start_flags',
): Record<string, number | null> {
  const figures = openLoopInChild(flags, total, ['sqlite']);
  const keys = [
    'added_latency_p50_ms',
    'added_latency_p99_ms',
    'added_latency_strict_p99_ms',
    'cpu_ms_per_answer',
  ];
  return Object.fromEntries(keys.map((k) => [`open_loop_${k}${suffix}`, figures[`open_loop_${k}`] ?? null]));
}

if (import.meta.main) {
  const backends = process.argv.includes('--sqlite') ? (['sqlite'] as const) : undefined;
  const total = Number(process.argv.find((a) => a.startsWith('--total='))?.slice('--total='.length) ?? 300);
  const figures = await benchOpenLoop((line) => process.stderr.write(`${line}\n`), total, backends);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(figures)}\n`);
  else for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(44)} ${v ?? 'n/a'}\n`);
  process.exit(0);
}
