/**
 * Memory benchmark, in a child process of its own (run with --expose-gc): RSS once the bot is idle
 * with its platform adapters connected, then the growth after 1,000 conversations have each had a
 * turn. The parent runs the simulator and the platform fakes and passes their URLs in the environment.
 */
import { fork } from 'node:child_process';
import { pino } from 'pino';
import { startDiscord } from '../adapters/discord/index.ts';
import { createApp } from '../src/app.ts';
import type { ReplySurface } from '../src/core/types.ts';
import { startDashScopeSim } from '../src/sim/dashscope-sim.ts';
import { startFakeDiscord } from '../test/support/fake-discord/index.ts';
import { message, TEST_API_KEY, testConfig } from '../test/support/harness.ts';

export interface MemoryFigures {
  rss_idle_mb: number;
  rss_per_1k_conversations_mb: number;
  heap_per_1k_conversations_mb: number;
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

function settle(): void {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

/** Child side: connect, measure idle, run 1,000 conversations, measure again. */
async function child(): Promise<MemoryFigures> {
  const env = process.env;
  const config = testConfig(env.BENCH_SIM_URL ?? '', `sqlite://${env.BENCH_DB}`, {
    faq: { enabled: false },
    guards: { userMessagesPerWindow: 1_000_000 },
    discord: { guildIds: [] },
  });
  config.discord.token = env.BENCH_DISCORD_TOKEN;
  config.discord.apiUrl = env.BENCH_DISCORD_URL;
  const app = await createApp(config, { log: pino({ level: 'silent' }) });
  const discord = await startDiscord({ config, service: app.service, log: app.log });
  await discord.whenReady;
  settle();
  const idle = process.memoryUsage();
  let seq = 0;
  const surface = (): ReplySurface => ({
    limits: { maxChars: 2000, minEditIntervalMs: 0, paceBucket: `m${seq}` },
    post: async () => ({ id: `p${++seq}` }),
    edit: async () => undefined,
  });
  for (let wave = 0; wave < 10; wave++) {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        app.service.handleMessage(
          message(`hello ${wave}-${i}`, {
            conversation: { platform: 'bench', workspace: 'W', channel: `C${wave * 100 + i}`, isDM: false },
          }),
          surface(),
        ),
      ),
    );
  }
  settle();
  const after = process.memoryUsage();
  await discord.stop();
  await app.close();
  return {
    rss_idle_mb: mb(idle.rss),
    rss_per_1k_conversations_mb: mb(after.rss - idle.rss),
    heap_per_1k_conversations_mb: mb(after.heapUsed - idle.heapUsed),
  };
}

/** Parent side: fakes and simulator here, the bot in a fresh child process. */
export async function benchMemory(db: string): Promise<MemoryFigures> {
  const sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  const fake = await startFakeDiscord('fake.discord.bench-token');
  try {
    const proc = fork(import.meta.filename, ['--child'], {
      execArgv: ['--expose-gc'],
      env: {
        ...process.env,
        BENCH_SIM_URL: sim.baseUrl,
        BENCH_DB: db,
        BENCH_DISCORD_URL: fake.apiUrl,
        BENCH_DISCORD_TOKEN: fake.token,
      },
    });
    return await new Promise<MemoryFigures>((resolve, reject) => {
      proc.once('message', (m) => resolve(m as MemoryFigures));
      proc.once('exit', (code) => reject(new Error(`memory benchmark child exited with ${code}`)));
    });
  } finally {
    await fake.close();
    await sim.close();
  }
}

if (import.meta.main && process.argv.includes('--child')) {
  const figures = await child();
  process.send?.(figures);
  process.exit(0);
}
