/**
 * Memory benchmark: RSS of a bot idle with its Discord adapter connected, then RSS and heap after 1,000
 * and after 10,000 conversations have each had a turn, on SQLite and on Redis. The bot is `npm start`:
 * the compiled entry point (dist/, built first if stale) with the start script's Node flags, in a
 * process of its own, plus a preloaded probe (bench/memory-probe.mjs) that measures when asked. This
 * process runs the DashScope simulator, the fake Discord and (for the Redis run) a private
 * redis-server, so none of them is counted. Every turn goes through the fake Discord and the real
 * adapter: a mention in a channel of its own, answered by a post and edits.
 *
 * `node bench/memory.ts [--quick]` (or `npm run bench -- --memory`) runs it alone;
 * QWENBOT_BENCH_SCRIPT=start:busy measures the busy profile's flags instead of npm start's; --quick stops at
 * 1,000 conversations, --idle-only measures the idle bot only (to compare Node flags quickly),
 * --sqlite-only / --redis-only measure one store.
 * QWENBOT_BENCH_NODE_FLAGS="…" replaces the start script's flags; MALLOC_ARENA_MAX is passed on;
 * BENCH_MAPPINGS=1 logs the bot's large anonymous mappings at each checkpoint (where native memory went);
 * BENCH_HEAP_SNAPSHOT=<dir> writes a heap snapshot at each checkpoint, after its figures are read
 * (compare two with bench/heap-diff.py).
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeDiscord } from '../test/support/fake-discord/index.ts';
import { TEST_API_KEY } from '../test/support/harness.ts';
import { freePort, startRedis } from '../test/support/redis-server.ts';
import { withSim } from './core.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Conversations waiting for their answer at any time (a new one starts as each is answered). */
const IN_FLIGHT = 250;
/** The longest wait for the next answer before the run is given up. */
const ANSWER_TIMEOUT_MS = 60_000;
const ANSWER = 'A short answer of a few words for the memory benchmark.';

/** One measurement, in MB (bench/memory-probe.mjs). */
interface MemoryPoint {
  /** Right after the last answer and a full GC. */
  rssBusy: number;
  /** Once V8's memory reducer has run (it starts ~8 s after activity stops) and a full GC. */
  rss: number;
  heap: number;
  heapTotal: number;
  external: number;
  /** Resident anonymous memory (JS heap, malloc) and file-backed (node binary, libraries). */
  anon: number | null;
  file: number | null;
  /** CPU seconds the bot had used when measured (before the quiet wait). */
  cpuSeconds: number;
  /** With BENCH_MAPPINGS=1: resident MB of each large anonymous mapping → how many. */
  mappings?: Record<string, number>;
  /** With BENCH_MAPPINGS=1: resident MB of each mapped file ≥ 0.5 MB. */
  files?: Record<string, number>;
  /** With BENCH_HEAP_SNAPSHOT=<dir>: the heap snapshot written after the measurement. */
  snapshot?: string;
}

interface MemoryRun {
  idle: MemoryPoint;
  /** In the order of the checkpoints asked for. */
  after: MemoryPoint[];
  seconds: number;
  /** Questions answered with a failure line instead of the answer (e.g. the simulator unreachable under load). */
  errorAnswers: number;
}

/**
 * The `node … <entry>` part of a start script (package.json: `start`, or `start:busy`, the profile
 * for many answers at once), split into the Node flags and the entry.
 */
function startCommand(script = 'start'): { flags: string[]; entry: string } {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = ((pkg.scripts[script] ?? '').split('&&').at(-1) ?? '').trim().split(/\s+/);
  return { flags: words.filter((w) => w.startsWith('--')), entry: words.at(-1) ?? '' };
}

/**
 * The Node flags the start script passes (`npm start` unless QWENBOT_BENCH_SCRIPT names another);
 * QWENBOT_BENCH_NODE_FLAGS replaces them, to compare flags.
 */
export function startFlags(script = process.env.QWENBOT_BENCH_SCRIPT ?? 'start'): string[] {
  const override = process.env.QWENBOT_BENCH_NODE_FLAGS;
  if (override !== undefined) return override.split(/\s+/).filter(Boolean);
  return startCommand(script).flags;
}

/** The settings of this run: the turn must not be what is paced or refused. */
const BENCH_CONFIG = `
faq: { enabled: false }
guards: { userMessagesPerWindow: 1000000 }
# The account limiter spaces calls to rpm/60 per second: at the default 300 RPM, 10,000 turns take 33 min.
models:
  qwen-plus: { rpm: 100000000, tpm: 100000000000 }
# More questions wait at once here than a bot's model queue lets wait by default (200).
qwen: { queue: { max: 100000 } }
`;

function ask(proc: ChildProcess, label: string): Promise<MemoryPoint> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { point?: MemoryPoint }) => {
      if (!m.point) return;
      proc.off('exit', onExit);
      proc.off('message', onMessage);
      resolve(m.point);
    };
    const onExit = (code: number | null) => reject(new Error(`the bot exited with ${code}`));
    proc.on('message', onMessage);
    proc.once('exit', onExit);
    proc.send({ measure: true, label });
  });
}

/**
 * The bot (`npm start`) in a fresh process on `storeUrl`; the fake Discord here, the simulator in a
 * process of its own (so neither's work slows the other's event loop, nor counts as the bot's).
 */
function runBot(
  storeUrl: string,
  checkpoints: number[],
  log: (line: string) => void,
  script?: string,
): Promise<MemoryRun> {
  return withSim((sim) => runBotOn(sim, storeUrl, checkpoints, log, script), { answer: ANSWER });
}

async function runBotOn(
  sim: { baseUrl: string },
  storeUrl: string,
  checkpoints: number[],
  log: (line: string) => void,
  script = process.env.QWENBOT_BENCH_SCRIPT ?? 'start',
): Promise<MemoryRun> {
  // The flags and the entry point from the same start script.
  const flags = startFlags(script);
  const started = performance.now();
  const fake = await startFakeDiscord('fake.discord.bench-token');
  const guild = fake.addGuild('Bench');
  const people = Array.from({ length: 50 }, (_, i) => {
    const u = fake.addUser(`person${i}`, `Person ${i}`);
    fake.addMember(guild, u);
    return u;
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-bench-memory-'));
  writeFileSync(path.join(dir, 'bench.yaml'), BENCH_CONFIG);
  const { entry } = startCommand(script);
  const proc = fork(path.join(ROOT, entry), [], {
    cwd: dir,
    execArgv: ['--expose-gc', '--import', path.join(ROOT, 'bench/memory-probe.mjs'), ...flags],
    env: {
      PATH: process.env.PATH,
      ...Object.fromEntries(
        [
          'MALLOC_ARENA_MAX',
          'MALLOC_MMAP_THRESHOLD_',
          'MALLOC_TRIM_THRESHOLD_',
          'GLIBC_TUNABLES',
          'BENCH_MAPPINGS',
          'BENCH_HEAP_SNAPSHOT',
          'BENCH_QUIET_MS',
        ].flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])),
      ),
      ...(flags.includes('--expose-gc') ? { BENCH_BOT_HAS_GC: '1' } : {}),
      DASHSCOPE_API_KEY: TEST_API_KEY,
      DASHSCOPE_BASE_URL: sim.baseUrl,
      DISCORD_TOKEN: fake.token,
      DISCORD_API_URL: fake.apiUrl,
      QWENBOT_STORE: storeUrl,
      QWENBOT_CONFIG: path.join(dir, 'bench.yaml'),
      QWENBOT_INSTANCE: `bench-memory-${process.pid}`,
      PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new Error(`the bot exited with ${code}`))),
  );
  exited.catch(() => undefined);
  try {
    const mention = `<@${fake.bot.id}>`;
    await Promise.race([
      fake.waitFor(
        () => fake.requests('PUT /applications/:id/commands').length > 0,
        60_000,
        'the bot connected',
      ),
      exited,
    ]);
    const run: MemoryRun = { idle: await ask(proc, 'idle'), after: [], seconds: 0, errorAnswers: 0 };
    const i = run.idle;
    log(
      `memory: idle: RSS ${i.rss} MB (anonymous ${i.anon}), heap ${i.heap} MB (V8 holds ${i.heapTotal}), external ${i.external} MB`,
    );
    if (i.snapshot) log(`memory: idle heap snapshot ${i.snapshot}`);
    if (i.mappings)
      log(`memory: idle, anonymous mappings ≥ 1 MB resident (MB → how many): ${JSON.stringify(i.mappings)}`);
    if (i.files) log(`memory: idle, mapped files resident (MB): ${JSON.stringify(i.files)}`);
    // A window of IN_FLIGHT conversations: each answered one is replaced by a new one, up to each
    // checkpoint, where the bot is left to go quiet and measured.
    const pending = new Set<string>();
    let wake: () => void = () => undefined;
    const onChange = fake.rest.onChange;
    fake.rest.onChange = (m) => {
      onChange(m);
      if (m.author.id !== fake.bot.id || !pending.has(m.channel_id)) return;
      // The answer, or the line a failure ends a reply with (counted: the turn still happened).
      const failed = m.content.includes('⚠️');
      if (!failed && !m.content.includes(ANSWER)) return;
      if (failed) run.errorAnswers++;
      pending.delete(m.channel_id);
      if (++answeredCount % 1000 === 0)
        log(`memory: ${answeredCount} answered, ${Math.round((performance.now() - started) / 1000)} s`);
      wake();
    };
    let asked = 0;
    let answeredCount = 0;
    for (const checkpoint of checkpoints) {
      while (asked < checkpoint || pending.size > 0) {
        while (asked < checkpoint && pending.size < IN_FLIGHT) {
          const channel = fake.addChannel(guild, `c${asked}`);
          pending.add(channel.id);
          const author = people[asked % people.length] ?? fake.bot;
          fake.say({ author, channelId: channel.id, content: `${mention} hello ${asked}` });
          asked++;
        }
        const answered = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            const [id] = pending;
            const shows = id ? fake.transcript(id).join(' | ') : '';
            reject(
              new Error(
                `${pending.size} questions had no answer within ${ANSWER_TIMEOUT_MS / 1000} s; one shows: ${shows}`,
              ),
            );
          }, ANSWER_TIMEOUT_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        await Promise.race([answered, exited]);
      }
      log(
        `memory: ${asked} conversations answered after ${Math.round((performance.now() - started) / 1000)} s`,
      );
      const point = await ask(proc, String(asked));
      log(
        `memory: after ${asked}: RSS ${point.rss} MB (${point.rssBusy} right after; anonymous ${point.anon}), heap ${point.heap} MB (V8 holds ${point.heapTotal}), external ${point.external} MB, bot CPU ${point.cpuSeconds} s`,
      );
      if (point.mappings)
        log(`memory: anonymous mappings ≥ 1 MB resident (MB → how many): ${JSON.stringify(point.mappings)}`);
      if (point.files) log(`memory: mapped files resident (MB): ${JSON.stringify(point.files)}`);
      if (point.snapshot) log(`memory: heap snapshot after ${asked}: ${point.snapshot}`);
      run.after.push(point);
    }
    run.seconds = Math.round((performance.now() - started) / 100) / 10;
    return run;
  } finally {
    proc.kill('SIGTERM');
    await new Promise((resolve) => (proc.exitCode === null ? proc.once('exit', resolve) : resolve(null)));
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

const NO_POINT: MemoryPoint = {
  rssBusy: 0,
  rss: 0,
  heap: 0,
  heapTotal: 0,
  external: 0,
  anon: null,
  file: null,
  cpuSeconds: 0,
};
/** A store not measured: every figure null. */
const NO_RUN: MemoryRun = { idle: NO_POINT, after: [], seconds: 0, errorAnswers: 0 };

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
    [`rss_anon_idle_mb${suffix}`]: r.idle.anon,
    [`rss_file_idle_mb${suffix}`]: r.idle.file,
    [`rss_per_1k_conversations_mb${suffix}`]: at1k ? round(at1k.rss - r.idle.rss) : null,
    [`heap_per_1k_conversations_mb${suffix}`]: at1k ? round(at1k.heap - r.idle.heap) : null,
    [`rss_after_1k_conversations_mb${suffix}`]: at1k?.rss ?? null,
    [`heap_after_1k_conversations_mb${suffix}`]: at1k?.heap ?? null,
    [`rss_busy_after_1k_conversations_mb${suffix}`]: at1k?.rssBusy ?? null,
    [`rss_after_10k_conversations_mb${suffix}`]: at10k?.rss ?? null,
    [`heap_after_10k_conversations_mb${suffix}`]: at10k?.heap ?? null,
    [`rss_busy_after_10k_conversations_mb${suffix}`]: at10k?.rssBusy ?? null,
    [`rss_anon_after_10k_conversations_mb${suffix}`]: at10k?.anon ?? null,
    [`memory_bench_seconds${suffix}`]: r.seconds,
    [`memory_bench_error_answers${suffix}`]: r.errorAnswers,
    // What the bot itself spent on the run (start-up and every turn): the rest of the wall time is
    // the quiet waits, the fakes, and other work on the machine.
    [`memory_bench_bot_cpu_seconds${suffix}`]: r.after.at(-1)?.cpuSeconds ?? r.idle.cpuSeconds,
  };
}

/** A private redis-server for the Redis run (nothing shared is written); undefined without one. */
async function privateRedis(log: (line: string) => void): Promise<{ url: string; stop(): void } | undefined> {
  try {
    const port = await freePort();
    const server = await startRedis(port);
    return { url: `redis://127.0.0.1:${port}`, stop: () => server.kill('SIGTERM') };
  } catch (err) {
    log(`memory: Redis skipped (no redis-server: ${(err as Error).message})`);
    return undefined;
  }
}

/**
 * SQLite (a fresh file) and Redis (a private redis-server); the Redis figures are null without
 * redis-server. `quick` stops at 1,000 conversations.
 */
export async function benchMemory(
  options: {
    quick?: boolean;
    idleOnly?: boolean;
    /** One store only (the other's figures are null). */
    only?: 'sqlite' | 'redis';
    /** The start script whose flags the bot runs with (default: QWENBOT_BENCH_SCRIPT, else `start`). */
    script?: string;
    log?: (line: string) => void;
  } = {},
): Promise<Record<string, number | null>> {
  const log = options.log ?? (() => undefined);
  const build = spawnSync(process.execPath, [path.join(ROOT, 'bin/build.mjs'), '--if-stale'], {
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('memory: dist/ could not be built (npm run build)');
  const checkpoints = options.idleOnly ? [] : options.quick ? [1000] : [1000, 10_000];
  const db = path.join(tmpdir(), `qwenbot-bench-memory-${process.pid}-${Date.now()}.sqlite`);
  const figures: Record<string, number | null> = {};
  // Every key is present; a store not measured (or Redis without redis-server) leaves its figures null.
  for (const key of Object.keys(figuresOf(NO_RUN, ''))) {
    figures[key] = null;
    figures[`${key}_redis`] = null;
  }
  if (options.only !== 'redis') {
    log(
      `memory: SQLite, ${checkpoints.join(' and ') || 'no'} conversations, the bot in a process of its own…`,
    );
    try {
      Object.assign(figures, figuresOf(await runBot(`sqlite://${db}`, checkpoints, log, options.script), ''));
    } finally {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
    }
  }
  const redis = options.only === 'sqlite' ? undefined : await privateRedis(log);
  if (redis) {
    log('memory: Redis, the bot in a process of its own…');
    try {
      Object.assign(figures, figuresOf(await runBot(redis.url, checkpoints, log, options.script), '_redis'));
    } finally {
      redis.stop();
    }
  }
  return figures;
}

if (import.meta.main) {
  const figures = await benchMemory({
    quick: process.argv.includes('--quick'),
    idleOnly: process.argv.includes('--idle-only'),
    only: process.argv.includes('--sqlite-only')
      ? 'sqlite'
      : process.argv.includes('--redis-only')
        ? 'redis'
        : undefined,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}
