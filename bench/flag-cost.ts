/**
 * CPU per complete turn on SQLite under the Node flags this process was started with, to weigh a V8
 * flag's memory saving against its CPU cost (docs/benchmarks.md, "Memory"). CPU time, not turns per
 * second: on a machine shared with other work the wall clock says more about the neighbours.
 *
 *   node --max-semi-space-size=2 bench/flag-cost.ts
 *   node --max-semi-space-size=2 --optimize-for-size bench/flag-cost.ts
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureTurns, openBenchApp, withSim } from './core.ts';

const TURNS = 1500;
const db = path.join(tmpdir(), `qwenbot-flag-cost-${process.pid}.sqlite`);
await withSim(async (sim) => {
  const app = await openBenchApp(sim, `sqlite://${db}`);
  await measureTurns(app, 300, 20); // warm-up: compiled code and caches, not measured
  const before = process.cpuUsage();
  const turnsPerSecond = await measureTurns(app, TURNS, 20);
  const cpu = process.cpuUsage(before);
  await app.close();
  const figures = {
    flags: process.execArgv.join(' '),
    cpu_ms_per_turn: Math.round((cpu.user + cpu.system) / 10 / TURNS) / 100,
    turns_per_s: Math.round(turnsPerSecond),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
});
for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
process.exit(0);
