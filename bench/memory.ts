/**
 * Memory benchmark: RSS of a bot idle with its Discord adapter connected, then RSS and heap after 1,000
 * and after 10,000 conversations have each had a turn, on SQLite and on Redis. Every turn goes through
 * the fake Discord and the real adapter (a mention in a channel of its own, answered by a post and
 * edits), so discord.js's caches count as they would in production. This process runs the simulator
 * and the fake Discord; the bot runs alone in a child (bench/memory-child.ts) started with the Node
 * flags of `npm start`, so it measures what production runs.
 *
 * `node bench/memory.ts [--quick]` (or `npm run bench -- --memory`) runs it alone; --quick stops at
 * 1,000 conversations, --idle-only measures the idle bot only (to compare Node flags quickly).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDashScopeSim } from '../src/sim/dashscope-sim.ts';
import { startFakeDiscord } from '../test/support/fake-discord/index.ts';
import { TEST_API_KEY } from '../test/support/harness.ts';
import { deleteRedisKeys } from '../test/support/redis-cleanup.ts';
import { type FromChild, type MemoryRun, WAVE } from './memory-child.ts';

/**
 * The Node flags `npm start` passes (`node <flags> src/main.ts` in package.json), so the bench child
 * runs the way the bot does. QWENBOT_BENCH_NODE_FLAGS replaces them, to compare flags.
 */
export function startFlags(): string[] {
  const override = process.env.QWENBOT_BENCH_NODE_FLAGS;
  if (override !== undefined) return override.split(/\s+/).filter(Boolean);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const command = (pkg.scripts.start ?? '').split('&&').find((part) => part.includes('src/main.ts')) ?? '';
  return command
    .trim()
    .split(/\s+/)
    .filter((word) => word.startsWith('--'));
}

/** Fakes and simulator here, the bot in a fresh child process on `storeUrl`. */
async function runChild(storeUrl: string, namespace: string, checkpoints: number[]): Promise<MemoryRun> {
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
    const proc = fork(new URL('./memory-child.ts', import.meta.url), [], {
      execArgv: ['--expose-gc', ...startFlags()],
      env: {
        ...process.env,
        BENCH_SIM_URL: sim.baseUrl,
        BENCH_API_KEY: TEST_API_KEY,
        BENCH_STORE: storeUrl,
        BENCH_NAMESPACE: namespace,
        BENCH_CHECKPOINTS: checkpoints.join(','),
        BENCH_DISCORD_URL: fake.apiUrl,
        BENCH_DISCORD_TOKEN: fake.token,
      },
    });
    return await new Promise<MemoryRun>((resolve, reject) => {
      proc.on('message', (m: FromChild) => {
        if ('run' in m) resolve(m.run);
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

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * The figures of one store: `suffix` is '' for SQLite (the keys earlier issues introduced keep their
 * meaning) and '_redis' for Redis. Growth is measured once the bot is quiet again (V8 has returned the
 * pages the burst left pooled); `rss_busy_*` is RSS right after the last answer, before that.
 */
function figuresOf(r: MemoryRun, suffix: string): Record<string, number | null> {
  const [at1k, at10k] = r.after;
  return {
    [`rss_idle_mb${suffix}`]: r.idle.rss,
    [`heap_idle_mb${suffix}`]: r.idle.heap,
    [`rss_per_1k_conversations_mb${suffix}`]: at1k ? round(at1k.rss - r.idle.rss) : null,
    [`heap_per_1k_conversations_mb${suffix}`]: at1k ? round(at1k.heap - r.idle.heap) : null,
    [`rss_after_1k_conversations_mb${suffix}`]: at1k?.rss ?? null,
    [`heap_after_1k_conversations_mb${suffix}`]: at1k?.heap ?? null,
    [`rss_busy_after_1k_conversations_mb${suffix}`]: at1k?.rssBusy ?? null,
    [`rss_after_10k_conversations_mb${suffix}`]: at10k?.rss ?? null,
    [`heap_after_10k_conversations_mb${suffix}`]: at10k?.heap ?? null,
    [`rss_busy_after_10k_conversations_mb${suffix}`]: at10k?.rssBusy ?? null,
    [`memory_bench_seconds${suffix}`]: r.seconds,
  };
}

/**
 * SQLite (a fresh file) and Redis (a per-run namespace, deleted afterwards); the Redis figures are null
 * when Redis is not reachable. `quick` stops at 1,000 conversations.
 */
export async function benchMemory(
  options: { quick?: boolean; idleOnly?: boolean; log?: (line: string) => void; redisUrl?: string } = {},
): Promise<Record<string, number | null>> {
  const log = options.log ?? (() => undefined);
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const checkpoints = options.idleOnly ? [] : options.quick ? [1000] : [1000, 10_000];
  const db = path.join(tmpdir(), `qwenbot-bench-memory-${process.pid}-${Date.now()}.sqlite`);
  log(`memory: SQLite, ${checkpoints.join(' and ')} conversations, bot in a child process…`);
  const sqlite = figuresOf(await runChild(`sqlite://${db}`, 'qwenbot', checkpoints), '');
  const figures: Record<string, number | null> = { ...sqlite };
  const namespace = `qwenbot-bench-memory-${process.pid}`;
  log('memory: Redis, bot in a child process…');
  try {
    Object.assign(figures, figuresOf(await runChild(redisUrl, namespace, checkpoints), '_redis'));
  } catch (err) {
    log(`memory: Redis skipped (${(err as Error).message})`);
    for (const key of Object.keys(sqlite)) figures[`${key}_redis`] = null;
  } finally {
    await deleteRedisKeys(namespace, redisUrl).catch(() => undefined);
  }
  return figures;
}

if (import.meta.main) {
  const figures = await benchMemory({
    quick: process.argv.includes('--quick'),
    idleOnly: process.argv.includes('--idle-only'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}
