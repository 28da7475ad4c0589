// Compiles src/ and adapters/ to dist/ (tsconfig.build.json), which `npm start` and the Docker image run.
// Compiled JavaScript instead of Node's type stripping: the stripper (a WebAssembly compiler loaded on the
// first .ts import) and the TypeScript sources stay in memory, ~28 MB of an idle bot (docs/benchmarks.md,
// "Memory"). Plain JavaScript like check-node.mjs, so it runs before anything is compiled.
//
//   node bin/build.mjs             build now
//   node bin/build.mjs --if-stale  build only when a source is newer than the last build (npm start)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
/** Written after a successful build; its mtime is the build's. */
const STAMP = path.join(DIST, '.built');
const SOURCES = ['src', 'adapters', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** The newest mtime (ms) among the files under `entry`. */
function newest(entry) {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // a deleted or renamed file changes its folder's mtime
  for (const name of readdirSync(entry)) latest = Math.max(latest, newest(path.join(entry, name)));
  return latest;
}

/** True when dist/ holds a build at least as new as every source. */
export function distIsFresh(root = ROOT) {
  const stamp = path.join(root, 'dist', '.built');
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return SOURCES.every((entry) => newest(path.join(root, entry)) <= built);
}

function typescriptCompiler() {
  try {
    const manifest = createRequire(path.join(ROOT, 'package.json')).resolve('typescript/package.json');
    return path.join(path.dirname(manifest), 'bin', 'tsc');
  } catch {
    return undefined;
  }
}

/** Builds dist/ from scratch (no files left from deleted sources); returns the exit code. */
export function build() {
  const tsc = typescriptCompiler();
  if (!tsc) {
    process.stderr.write(
      'qwenbot: dist/ is missing or older than src/, and TypeScript (a dev dependency) is not installed to build it. ' +
        'Run `npm ci` (with dev dependencies) and `npm run build`, or run the sources directly: node src/main.ts\n',
    );
    return 1;
  }
  rmSync(DIST, { recursive: true, force: true });
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (run.status !== 0) {
    process.stderr.write(
      `qwenbot: building dist/ failed (tsc -p tsconfig.build.json exited ${run.status})\n`,
    );
    return 1;
  }
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  if (!ifStale || !distIsFresh()) {
    if (ifStale) process.stderr.write('qwenbot: sources changed since the last build; compiling to dist/…\n');
    process.exitCode = build();
  }
}
