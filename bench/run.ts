/**
 * `npm run bench` prints a table; `npm run bench -- --json` prints one JSON object whose keys name a
 * figure and its unit; `--history` runs only the history figures, `--turn-cost` only the store cost of
 * one answer turn (round trips and bytes written), `--turn-wait` only what waiting turns cost on Redis,
 * `--busy` only the busy Discord channel (20 askers at once in one channel), `--memory` only the memory
 * figures (SQLite and Redis, 1,000 and 10,000 conversations; with --quick 1,000), `--limits` only the
 * account rate limits (50 questions at 60 RPM), `--cache` only the explicit context cache over a 20-turn
 * conversation (cached share of input tokens, saving), `--docs` only long documents (upload and first-answer
 * overhead of a 5 MB PDF, bench/docs.ts), `--latency` only the latency targets of issue 15
 * §4 (closed loop at 1 and 100 conversations, SQLite turns/s against the bare SDK, the open loop on
 * SQLite), `--voice` only the voice message overhead (bench/voice.ts). The open-loop run (bench/open-loop.ts) and the Slack
 * pacing run (bench/slack-pacing.ts) also run alone with `node <file>`. Everything runs on this machine
 * against loopback fakes.
 */
import os from 'node:os';
import type { RedisCoordinator } from '../src/store/coordination.ts';
import { benchBusyChannel } from './busy.ts';
import { benchCache } from './cache.ts';
import {
  measureMinimalOverhead,
  measureMinimalTurns,
  measureOverhead,
  measureTurnRatio,
  measureTurns,
  openBenchApp,
  percentile,
  sqliteUrl,
  withSim,
} from './core.ts';
import { benchDocs } from './docs.ts';
import { benchFaq } from './faq.ts';
import { benchHistory } from './history.ts';
import { benchLimits } from './limits.ts';
import { benchMemory, startFlags } from './memory.ts';
import { benchOpenLoopWithStartFlags, openLoopInChild } from './open-loop.ts';
import { benchDiscordPacing } from './pacing.ts';
import { benchSlackPacing } from './slack-pacing.ts';
import { benchTurnCost } from './turn-cost.ts';
import { benchTurnWait } from './turn-wait.ts';
import { benchVoice } from './voice.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const historyOnly = process.argv.includes('--history');
const turnCostOnly = process.argv.includes('--turn-cost');
const memoryOnly = process.argv.includes('--memory');
const turnWaitOnly = process.argv.includes('--turn-wait');
const limitsOnly = process.argv.includes('--limits');
const busyOnly = process.argv.includes('--busy');
const cacheOnly = process.argv.includes('--cache');
const docsOnly = process.argv.includes('--docs');
const latencyOnly = process.argv.includes('--latency');
const voiceOnly = process.argv.includes('--voice');
const log = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

// Other work on the machine takes CPU from the bot: every timing taken under load is an upper bound.
const figures: Record<string, number | string | null> = { load_avg_1m_start: loadAverage() };
const round = (n: number, digits = 2) =>
  Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null;

const busyLine = '20 askers at once in one Discord channel, model paced at 40 tokens/s (about 30 s)…';
if (busyOnly) {
  log(`busy channel: ${busyLine}`);
  Object.assign(figures, await benchBusyChannel());
  finish();
}

if (turnCostOnly) {
  log('turn cost: store round trips and bytes written per answer turn…');
  Object.assign(figures, await withSim((sim) => benchTurnCost(sim, log)));
  finish();
}

if (memoryOnly) {
  Object.assign(figures, await benchMemory({ quick, log }));
  // The busy profile (npm run start:busy) to 1,000 conversations: its idle and per-1,000 figures.
  log('memory: the busy profile (npm run start:busy), 1,000 conversations…');
  const busyMemory = await benchMemory({ quick: true, log, script: 'start:busy' });
  for (const key of ['rss_idle_mb', 'rss_per_1k_conversations_mb', 'rss_busy_after_1k_conversations_mb'])
    for (const store of ['', '_redis'])
      figures[`${key}${store}_busy_profile`] = busyMemory[`${key}${store}`] ?? null;
  finish();
}

if (limitsOnly) {
  Object.assign(figures, await benchLimits(log));
  finish();
}

if (cacheOnly) {
  Object.assign(figures, await benchCache(log));
  finish();
}

if (docsOnly) {
  Object.assign(figures, await benchDocs(log));
  finish();
}

if (voiceOnly) {
  log('voice: a DM voice message against the same question typed (30 s clip, 7 MB clip)…');
  Object.assign(figures, await benchVoice());
  finish();
}

if (!latencyOnly) {
  log('turn wait: 20 turns waiting in one conversation on Redis…');
  Object.assign(figures, await benchTurnWait(log));
  if (turnWaitOnly) finish();

  log('history: bytes and round trips per turn…');
  Object.assign(figures, await benchHistory(undefined, log));
  if (historyOnly) finish();
}

await withSim(async (sim) => {
  if (!latencyOnly) {
    log('turn cost: store round trips and bytes written per answer turn…');
    Object.assign(figures, await benchTurnCost(sim, log));
  }

  // Overhead at 1, 100 and 1,000 concurrent conversations (SQLite in a temp file).
  for (const concurrency of quick || latencyOnly ? [1, 100] : [1, 100, 1000]) {
    const app = await openBenchApp(sim, sqliteUrl());
    log(`overhead: ${concurrency} concurrent…`);
    const rounds = concurrency === 1 ? 200 : concurrency === 100 ? 10 : 3;
    const t = await measureOverhead(app, concurrency, rounds);
    const suffix = concurrency === 100 ? '' : `_${concurrency}`;
    figures[`overhead_first_edit_p50_ms${suffix}`] = round(percentile(t.firstEdit, 50));
    figures[`overhead_first_edit_p99_ms${suffix}`] = round(percentile(t.firstEdit, 99));
    figures[`overhead_final_edit_p50_ms${suffix}`] = round(percentile(t.finalEdit, 50));
    figures[`overhead_final_edit_p99_ms${suffix}`] = round(percentile(t.finalEdit, 99));
    // Under load statements that wait join (statement-lanes.ts): what a turn costs the store then.
    figures[`store_round_trips_per_turn_at_${concurrency}_conversations`] = round(t.storeTripsPerTurn, 1);
    await app.close();
  }

  // The same closed loop at 100 for the floor (the bare SDK with one read before the model call and one
  // write after): its read's wait is the floor under overhead_first_edit_* (docs/benchmarks.md).
  log('overhead: the bare SDK with one read and one write per turn, 100 concurrent…');
  const floorApp = await openBenchApp(sim, sqliteUrl());
  await measureMinimalOverhead(sim, floorApp.store, 20, 10); // warm-up, as the bot's loop has had
  const floor = await measureMinimalOverhead(sim, floorApp.store, 100, 10);
  figures.minimal_store_overhead_first_edit_p50_ms = round(percentile(floor, 50));
  figures.minimal_store_overhead_first_edit_p99_ms = round(percentile(floor, 99));
  await floorApp.close();

  log('throughput: SQLite against the bare-SDK baseline, warm-up then pairs back to back…');
  const sqliteApp = await openBenchApp(sim, sqliteUrl());
  const ratio = await measureTurnRatio(sqliteApp, sim, {
    turns: quick ? 200 : 400,
    concurrency: 20,
    rounds: quick ? 3 : 5,
  });
  figures.turns_per_s_sqlite = round(ratio.botTurnsPerS, 1);
  figures.baseline_turns_per_s = round(ratio.baselineTurnsPerS, 1);
  figures.baseline_ratio = round(ratio.ratio, 3);
  figures.baseline_ratio_min = round(ratio.ratioMin, 3);
  figures.baseline_ratio_max = round(ratio.ratioMax, 3);
  figures.baseline_ratio_rounds = ratio.rounds;
  figures.turn_cpu_ms_sqlite = round(ratio.botCpuMsPerTurn, 2);
  figures.baseline_turn_cpu_ms = round(ratio.baselineCpuMsPerTurn, 2);
  // The same ratio from CPU per turn: what the bot costs beyond the SDK when it has the CPU it needs.
  figures.baseline_cpu_ratio = round(ratio.baselineCpuMsPerTurn / ratio.botCpuMsPerTurn, 3);
  // The floor: the bare SDK plus only the one read and one write a remembering bot needs per turn.
  log('throughput: the bare SDK with one batched read and one batched write per turn…');
  const minimal = await measureTurnRatio(sqliteApp, sim, {
    turns: quick ? 200 : 400,
    concurrency: 20,
    rounds: 3,
    contender: (turns, concurrency) => measureMinimalTurns(sim, sqliteApp.store, turns, concurrency),
  });
  figures.minimal_store_turns_per_s = round(minimal.botTurnsPerS, 1);
  figures.minimal_store_baseline_ratio = round(minimal.ratio, 3);
  figures.minimal_store_turn_cpu_ms = round(minimal.botCpuMsPerTurn, 2);
  figures.minimal_store_baseline_cpu_ratio = round(minimal.baselineCpuMsPerTurn / minimal.botCpuMsPerTurn, 3);
  await sqliteApp.close();

  if (latencyOnly) return;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const namespace = `qwenbot-bench-${process.pid}`;
  try {
    log('throughput: Redis…');
    const redisApp = await openBenchApp(sim, redisUrl, namespace);
    figures.turns_per_s_redis = round(await measureTurns(redisApp, quick ? 300 : 1000, 20), 1);
    // Leave nothing behind: wait for the last in-flight bookkeeping write, then delete the run's keys.
    await redisApp.service.queue.idle();
    await redisApp.service.inflight.flush();
    await redisApp.store.clear();
    await (redisApp.coordinator as RedisCoordinator).clearAll?.();
    await redisApp.close();
  } catch (err) {
    log(`redis: skipped (${(err as Error).message})`);
    figures.turns_per_s_redis = null;
  }
});

log(`open loop: ~10 and ~100 answers at once, paced model, in a fresh process under Node's defaults…`);
Object.assign(figures, openLoopInChild([], quick ? 150 : 300, latencyOnly ? ['sqlite'] : undefined));
log(`open loop again with the start script's Node flags (${startFlags().join(' ')}), sqlite…`);
Object.assign(figures, benchOpenLoopWithStartFlags(startFlags(), quick ? 150 : 300));
log(
  `open loop with the busy profile's flags (npm run start:busy: ${startFlags('start:busy').join(' ')}), sqlite…`,
);
Object.assign(
  figures,
  benchOpenLoopWithStartFlags(startFlags('start:busy'), quick ? 150 : 300, '_busy_profile'),
);
if (latencyOnly) finish();

Object.assign(figures, await benchMemory({ quick, log }));
// The busy profile (npm run start:busy) to 1,000 conversations: its idle and per-1,000 figures.
log('memory: the busy profile (npm run start:busy), 1,000 conversations…');
const busyMemory = await benchMemory({ quick: true, log, script: 'start:busy' });
for (const key of ['rss_idle_mb', 'rss_per_1k_conversations_mb', 'rss_busy_after_1k_conversations_mb'])
  for (const store of ['', '_redis'])
    figures[`${key}${store}_busy_profile`] = busyMemory[`${key}${store}`] ?? null;

log('pacing: 50 answers at once through discord.js and the fake Discord…');
const pacing = await benchDiscordPacing();
figures.pacing_429s = pacing.pacing_429s;
figures.pacing_discord_requests_per_s = pacing.requests_per_s;
figures.pacing_discord_edits_per_message_per_s_max = pacing.edits_per_message_per_s_max;
figures.pacing_discord_first_visible_p50_ms = pacing.first_visible_p50_ms;
figures.pacing_discord_first_visible_p99_ms = pacing.first_visible_p99_ms;

Object.assign(figures, await benchLimits(log));
Object.assign(figures, await benchCache(log));
Object.assign(figures, await benchDocs(log));
log(`busy channel: ${busyLine}`);
Object.assign(figures, await benchBusyChannel());

log('pacing: 50 thread answers at once through the Slack adapter and the fake Slack…');
Object.assign(figures, await benchSlackPacing());

log('faq lookup…');
const faq = benchFaq();
Object.assign(figures, faq);
figures.faq_lookup_10k_ms = round(faq.faq_lookup_10k_ms, 3);

finish();

function loadAverage(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

function finish(): never {
  figures.load_avg_1m_end = loadAverage();
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${os.platform()}`;
  figures.machine = machine;

  if (json) {
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } else {
    const rows = Object.entries(figures).map(([k, v]) => `${k.padEnd(44)} ${v ?? 'n/a'}`);
    process.stdout.write(`${rows.join('\n')}\n`);
  }
  process.exit(0);
}
