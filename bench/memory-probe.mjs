// Preloaded into the bot by the memory benchmark (`node --import bench/memory-probe.mjs … dist/src/main.js`):
// the bot runs exactly as `npm start` runs it, and this answers the parent's requests for a measurement
// over the IPC channel. Plain JavaScript, so measuring does not load Node's TypeScript stripper.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';

// discord.js spends at most 50 requests/s (Discord's global limit per bot): 10,000 conversations at
// that pace would take ten minutes. Memory does not depend on the pace, and every channel is new, so
// the per-channel buckets (the limit a conversation meets) are untouched. discord.js copies these
// defaults into each REST client it makes.
const fromDiscord = createRequire(createRequire(import.meta.url).resolve('discord.js'));
fromDiscord('@discordjs/rest').DefaultRestOptions.globalRequestsPerSecond = 2000;

/** V8 releases the pages a busy period left pooled only after this much quiet (BENCH_QUIET_MS sets it). */
const QUIET_MS = Number(process.env.BENCH_QUIET_MS ?? 10_000);

const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

// The probe needs --expose-gc to measure after a full collection; the bot gets gc() only when its own
// start flags give it (src/util/idle-memory.ts uses it), or the figures would not be npm start's.
const collect = globalThis.gc;
// (--expose-gc makes it a property that cannot be deleted, but it can be emptied.)
if (!process.env.BENCH_BOT_HAS_GC) globalThis.gc = undefined;

function fullGc() {
  for (let i = 0; i < 3; i++) collect?.();
}

/** Resident memory by kind from /proc (Linux): anonymous (heap, malloc) vs file-backed (code, libraries). */
function residentKinds() {
  try {
    const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    return { anon: mb(kb('Anonymous') * 1024), file: mb((kb('Rss') - kb('Anonymous')) * 1024) };
  } catch {
    return { anon: null, file: null };
  }
}

/**
 * The anonymous mappings by resident size (MB → count) for those of 1 MB or more, the named ones
 * (`[heap]`: malloc's main arena) by name, and the sum of the smaller ones (V8's heap pages are 256 KB,
 * so a pool of freed pages shows there), from /proc/self/smaps. For looking, not a figure.
 */
function anonMappings() {
  try {
    const sizes = new Map();
    let anonymous = false;
    let pseudo = '';
    let smallKb = 0;
    let small = 0;
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
        const name = line.trim().split(/\s+/)[5] ?? '';
        anonymous = name === '' || name.startsWith('[');
        pseudo = name.startsWith('[') ? name : '';
      }
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (!rss || !anonymous) continue;
      const kb = Number(rss[1]);
      if (pseudo) sizes.set(pseudo, Math.round(kb / 102.4) / 10);
      else if (kb >= 1024) {
        const mbRss = Math.round(kb / 1024);
        sizes.set(mbRss, (sizes.get(mbRss) ?? 0) + 1);
      } else if (kb > 0) {
        smallKb += kb;
        small++;
      }
    }
    const top = [...sizes]
      .filter(([k]) => typeof k === 'number')
      .sort((a, b) => b[0] - a[0])
      .slice(0, 12);
    const named = [...sizes].filter(([k]) => typeof k === 'string');
    return Object.fromEntries([
      ...top,
      ...named,
      [`under 1 MB (${small} mappings)`, Math.round(smallKb / 102.4) / 10],
    ]);
  } catch {
    return {};
  }
}

/** Resident MB of each mapped file (the node binary, native addons, libc…), largest first. For looking. */
function fileMappings() {
  try {
    const byFile = new Map();
    let file = '';
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) file = line.trim().split(/\s+/).slice(5).join(' ');
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (rss && file.startsWith('/')) byFile.set(file, (byFile.get(file) ?? 0) + Number(rss[1]));
    }
    const top = [...byFile].filter(([, kb]) => kb >= 512).sort((a, b) => b[1] - a[1]);
    return Object.fromEntries(top.map(([f, kb]) => [f.split('/').slice(-2).join('/'), mb(kb * 1024)]));
  } catch {
    return {};
  }
}

/**
 * With BENCH_HEAP_SNAPSHOT=<dir>: a heap snapshot at each measurement, after the figures are read (a
 * snapshot allocates), named by the checkpoint the parent sends (`idle`, `1000`…) and the bot's pid.
 */
function heapSnapshot(label) {
  const dir = process.env.BENCH_HEAP_SNAPSHOT;
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  fullGc();
  return v8.writeHeapSnapshot(path.join(dir, `${process.pid}-${label ?? 'point'}.heapsnapshot`));
}

async function measure(label) {
  fullGc();
  const rssBusy = mb(process.memoryUsage().rss);
  const cpu = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  fullGc();
  const m = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  return {
    rssBusy,
    rss: mb(m.rss),
    heap: mb(m.heapUsed),
    heapTotal: mb(heap.total_heap_size),
    external: mb(m.external),
    arrayBuffers: mb(m.arrayBuffers),
    ...residentKinds(),
    /** CPU seconds the bot has used so far (user + system), read before the quiet wait. */
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
    ...(process.env.BENCH_MAPPINGS ? { mappings: anonMappings(), files: fileMappings() } : {}),
    ...(process.env.BENCH_HEAP_SNAPSHOT ? { snapshot: heapSnapshot(label) } : {}),
  };
}

process.on('message', (m) => {
  if (m?.measure) void measure(m.label).then((point) => process.send?.({ point }));
});
// The benchmark went away (stopped or crashed): stop the bot the way a supervisor would.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
