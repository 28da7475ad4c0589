/**
 * The bot side of the memory benchmark (bench/memory.ts forks it): the app and the real Discord adapter,
 * nothing else, so what it measures is what a running bot holds. It connects, measures idle, then
 * answers the waves of mentions the parent's fake Discord sends and measures at each checkpoint.
 */
import { pino } from 'pino';
import { startDiscord } from '../adapters/discord/index.ts';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import type { ChatService } from '../src/core/service.ts';

/** Conversations per wave the parent sends; checkpoints are multiples of it. */
export const WAVE = 250;

/** One measurement, in MB. */
export interface MemoryPoint {
  /** Right after the last answer and a full GC. */
  rssBusy: number;
  /** Once V8's memory reducer has run (it starts ~8 s after activity stops) and a full GC. */
  rss: number;
  heap: number;
}

export interface MemoryRun {
  idle: MemoryPoint;
  /** In the order of the checkpoints asked for. */
  after: MemoryPoint[];
  seconds: number;
}

/** The child asks for each wave of questions, then reports its figures. */
export type FromChild = { wave: number } | { run: MemoryRun };

/** V8 releases the pages a busy period left pooled only after this much quiet (memory reducer). */
const QUIET_MS = 10_000;

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

function fullGc(): void {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

async function measure(): Promise<MemoryPoint> {
  fullGc();
  const rssBusy = mb(process.memoryUsage().rss);
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  fullGc();
  const m = process.memoryUsage();
  return { rssBusy, rss: mb(m.rss), heap: mb(m.heapUsed) };
}

async function child(checkpoints: number[]): Promise<MemoryRun> {
  const started = performance.now();
  const env = process.env;
  // Configured the way main.ts does it (nothing from test/ is loaded into the measured process).
  const config = loadConfig({
    file: null,
    env: {
      DASHSCOPE_API_KEY: env.BENCH_API_KEY,
      DASHSCOPE_BASE_URL: env.BENCH_SIM_URL,
      QWENBOT_STORE: env.BENCH_STORE,
      QWENBOT_INSTANCE: `bench-memory-${process.pid}`,
      DISCORD_TOKEN: env.BENCH_DISCORD_TOKEN,
    },
    overrides: {
      faq: { enabled: false },
      guards: { userMessagesPerWindow: 1_000_000 },
      discord: { guildIds: [], apiUrl: env.BENCH_DISCORD_URL },
    },
  });
  const app = await createApp(config, { log: pino({ level: 'silent' }), namespace: env.BENCH_NAMESPACE });
  let handled = 0;
  let onHandled: () => void = () => undefined;
  const service: ChatService = {
    handleMessage: async (m, surface) => {
      const outcome = await app.service.handleMessage(m, surface);
      handled++;
      onHandled();
      return outcome;
    },
    runCommand: (inv) => app.service.runCommand(inv),
    answersEveryMessage: (ref) => app.service.answersEveryMessage(ref),
    commands: () => app.service.commands(),
    spellCommandsAs: (platform, speller) => app.service.spellCommandsAs(platform, speller),
    autocomplete: (c, o, p, conv) => app.service.autocomplete(c, o, p, conv),
    stop: (id, by) => app.service.stop(id, by),
  };
  const discord = await startDiscord({ config, service, log: app.log });
  await discord.whenReady;
  // discord.js spends at most 50 requests/s (Discord's global limit per bot): 10,000 conversations at
  // that pace would take ten minutes. Memory does not depend on the pace, and every channel is new, so
  // the per-channel buckets (the limit a conversation meets) are untouched.
  discord.client.rest.options.globalRequestsPerSecond = 2000;
  const run: MemoryRun = { idle: await measure(), after: [], seconds: 0 };
  const last = checkpoints[checkpoints.length - 1] ?? 0;
  for (let wave = 1; wave * WAVE <= last; wave++) {
    const done = new Promise<void>((resolve) => {
      onHandled = () => handled >= wave * WAVE && resolve();
    });
    process.send?.({ wave } satisfies FromChild);
    await done;
    if (checkpoints.includes(wave * WAVE)) run.after.push(await measure());
  }
  await discord.stop();
  await app.close();
  run.seconds = Math.round((performance.now() - started) / 100) / 10;
  return run;
}

if (import.meta.main) {
  const checkpoints = (process.env.BENCH_CHECKPOINTS ?? '').split(',').map(Number).filter(Boolean);
  const run = await child(checkpoints);
  process.send?.({ run } satisfies FromChild);
  process.exit(0);
}
