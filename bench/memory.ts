/**
 * Memory benchmark, in a child process of its own (run with --expose-gc): RSS once the bot is idle
 * with its Discord adapter connected, then the growth after 1,000 conversations have each had a turn.
 * Every turn goes through the fake Discord and the real adapter (a mention in a channel of its own,
 * answered by a post and edits), so discord.js's caches count as they would in production. The parent
 * runs the simulator and the fake Discord; the child only runs the bot.
 */
import { fork } from 'node:child_process';
import { pino } from 'pino';
import { startDiscord } from '../adapters/discord/index.ts';
import { createApp } from '../src/app.ts';
import type { ChatService } from '../src/core/service.ts';
import { startDashScopeSim } from '../src/sim/dashscope-sim.ts';
import { startFakeDiscord } from '../test/support/fake-discord/index.ts';
import { TEST_API_KEY, testConfig } from '../test/support/harness.ts';

export interface MemoryFigures {
  rss_idle_mb: number;
  rss_per_1k_conversations_mb: number;
  heap_per_1k_conversations_mb: number;
}

const CONVERSATIONS = 1000;
const WAVE = 100;

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

function settle(): void {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

/** The child asks for each wave of questions, then reports its figures. */
type FromChild = { wave: number } | { figures: MemoryFigures };

/** Child side: connect, measure idle, answer what the fake Discord sends, measure again. */
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
    commands: () => app.service.commands(),
    spellCommandsAs: (platform, speller) => app.service.spellCommandsAs(platform, speller),
    autocomplete: (c, o, p, conv) => app.service.autocomplete(c, o, p, conv),
    stop: (id, by) => app.service.stop(id, by),
  };
  const discord = await startDiscord({ config, service, log: app.log });
  await discord.whenReady;
  settle();
  const idle = process.memoryUsage();
  for (let wave = 1; wave * WAVE <= CONVERSATIONS; wave++) {
    const done = new Promise<void>((resolve) => {
      onHandled = () => handled >= wave * WAVE && resolve();
    });
    process.send?.({ wave } satisfies FromChild);
    await done;
  }
  settle();
  const after = process.memoryUsage();
  await discord.stop();
  await app.close();
  return {
    rss_idle_mb: mb(idle.rss),
    rss_per_1k_conversations_mb: mb(((after.rss - idle.rss) * 1000) / CONVERSATIONS),
    heap_per_1k_conversations_mb: mb(((after.heapUsed - idle.heapUsed) * 1000) / CONVERSATIONS),
  };
}

/** Parent side: fakes and simulator here, the bot in a fresh child process. */
export async function benchMemory(db: string): Promise<MemoryFigures> {
  const sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  const fake = await startFakeDiscord('fake.discord.bench-token');
  const guild = fake.addGuild('Bench');
  const people = Array.from({ length: 50 }, (_, i) => {
    const u = fake.addUser(`person${i}`, `Person ${i}`);
    fake.addMember(guild, u);
    return u;
  });
  const mention = `<@${fake.bot.id}>`;
  let asked = 0;
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
      proc.on('message', (m: FromChild) => {
        if ('figures' in m) resolve(m.figures);
        if (!('wave' in m)) return;
        // One more wave: new channels, each with one person's question.
        for (let i = 0; i < WAVE; i++, asked++) {
          const channel = fake.addChannel(guild, `c${asked}`);
          const author = people[asked % people.length] ?? fake.bot;
          fake.say({ author, channelId: channel.id, content: `${mention} hello ${asked}` });
        }
      });
      proc.once('exit', (code) => reject(new Error(`memory benchmark child exited with ${code}`)));
    });
  } finally {
    await fake.close();
    await sim.close();
  }
}

if (import.meta.main && process.argv.includes('--child')) {
  const figures = await child();
  process.send?.({ figures } satisfies FromChild);
  process.exit(0);
}
