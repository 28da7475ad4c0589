/**
 * Open-loop benchmark: messages arrive on a fixed schedule, whatever the bot is doing, at the rate that
 * keeps ~100 answers streaming at once, against a simulator paced like a real model (first token after
 * 400 ms, then ~40 tokens/s, ~3 s per answer). Reports the latency the bot adds before the first words
 * are visible (event → first visible text, minus the model's own time to first token as the bot's
 * client saw it), the event → first visible time itself, and the bot's CPU per answer (the process's
 * user + system time, SQLite's worker threads included; the simulator runs in its own process). The
 * surface has no latency and the platform's edit spacing of 1 s; the bot's `streaming.minEditIntervalMs`
 * is the shipped default. `node bench/open-loop.ts` runs it alone.
 */
import { pino } from 'pino';
import { type App, createApp } from '../src/app.ts';
import type { RedisCoordinator } from '../src/store/coordination.ts';
import { message, testConfig } from '../test/support/harness.ts';
import { instrument, percentile, sqliteUrl, timedSurface, withSim } from './core.ts';

export const OPEN_LOOP_PACE = { firstTokenDelayMs: 400, tokensPerSecond: 40 };
/** ~100 tokens of 4 characters: 2.5 s of streaming at 40 tokens/s. */
export const OPEN_LOOP_ANSWER = 'words that stream at the pace of a real model, '.repeat(9).trim();
const ANSWER_MS = OPEN_LOOP_PACE.firstTokenDelayMs + (OPEN_LOOP_ANSWER.length / 4 / 40) * 1000;

export interface OpenLoopFigures {
  answers: number;
  /** Most answers streaming at the same moment. */
  maxConcurrent: number;
  addedP50: number;
  addedP99: number;
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

/** `total` messages, one every `ANSWER_MS / concurrency` ms, each in its own conversation. */
export async function measureOpenLoop(
  app: App,
  concurrency: number,
  total: number,
): Promise<OpenLoopFigures> {
  const marks = new Map<string, { sent: number; first?: number; last?: number }>();
  instrument(app.qwen, marks);
  const interval = ANSWER_MS / concurrency;
  const added: number[] = [];
  const firstVisible: number[] = [];
  let streaming = 0;
  let maxConcurrent = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const runs: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    runs.push(
      (async () => {
        const surface = timedSurface(1000);
        const text = `open loop ${i}`;
        const at = performance.now();
        streaming++;
        maxConcurrent = Math.max(maxConcurrent, streaming);
        const outcome = await app.service.handleMessage(
          message(text, {
            conversation: { platform: 'bench', workspace: 'W', channel: `O${i}`, isDM: true },
          }),
          surface,
        );
        streaming--;
        const mark = marks.get(text);
        marks.delete(text);
        if (outcome.status !== 'answered') throw new Error(`open loop: answer ${i} ended ${outcome.status}`);
        if (!mark?.first || surface.firstText === undefined)
          throw new Error(`open loop: answer ${i} not timed`);
        firstVisible.push(surface.firstText - at);
        added.push(surface.firstText - at - (mark.first - mark.sent));
      })(),
    );
  }
  await Promise.all(runs);
  await app.service.queue.idle();
  await app.service.inflight.flush();
  const used = process.cpuUsage(cpu);
  return {
    answers: total,
    maxConcurrent,
    addedP50: percentile(added, 50),
    addedP99: percentile(added, 99),
    firstVisibleP50: percentile(firstVisible, 50),
    firstVisibleP99: percentile(firstVisible, 99),
    cpuMsPerAnswer: (used.user + used.system) / 1000 / total,
  };
}

const round = (n: number, digits = 1) =>
  Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null;

/** The figures on SQLite and (when reachable) Redis, under `open_loop_*` keys. */
export async function benchOpenLoop(
  log: (line: string) => void = () => {},
  total = 300,
): Promise<Record<string, number | null>> {
  const figures: Record<string, number | null> = {};
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await withSim(
    async (sim) => {
      // The same at ~10 answers at once: what the bot adds when the process is not saturated.
      const light = await openApp(sim, sqliteUrl());
      try {
        log('open loop: 60 answers, ~10 at once, paced model, sqlite…');
        const f = await measureOpenLoop(light, 10, 60);
        figures.open_loop_added_latency_p50_ms_at_10 = round(f.addedP50);
        figures.open_loop_added_latency_p99_ms_at_10 = round(f.addedP99);
        figures.open_loop_cpu_ms_per_answer_at_10 = round(f.cpuMsPerAnswer, 2);
      } finally {
        await light.close();
      }
      for (const backend of ['sqlite', 'redis'] as const) {
        const suffix = backend === 'sqlite' ? '' : '_redis';
        let app: App | undefined;
        try {
          log(`open loop: ${total} answers, ~100 at once, paced model, ${backend}…`);
          app =
            backend === 'sqlite'
              ? await openApp(sim, sqliteUrl())
              : await openApp(sim, redisUrl, `qwenbot-bench-open-${process.pid}`);
          const f = await measureOpenLoop(app, 100, total);
          figures[`open_loop_added_latency_p50_ms${suffix}`] = round(f.addedP50);
          figures[`open_loop_added_latency_p99_ms${suffix}`] = round(f.addedP99);
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

if (import.meta.main) {
  const figures = await benchOpenLoop((line) => process.stderr.write(`${line}\n`));
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(44)} ${v ?? 'n/a'}\n`);
  process.exit(0);
}
