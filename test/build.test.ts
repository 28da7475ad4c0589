/**
 * `npm start` runs compiled JavaScript (dist/) and builds it first when a source changed
 * (bin/build.mjs --if-stale). Checked on a small project of its own in a temporary folder (the real
 * bin/build.mjs, the repository's TypeScript), then on the real tree: the compiled bot finds its
 * package.json and config/ from dist/src/.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve('.');
let project: string;

const write = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
  writeFileSync(path.join(project, file), text);
};
/** The last build happened a minute ago (a source written now is newer, whatever the clock's resolution). */
const builtAMinuteAgo = () => {
  const stamp = path.join(project, 'dist', '.built');
  if (!existsSync(stamp)) return;
  const earlier = new Date(Date.now() - 60_000);
  utimesSync(stamp, earlier, earlier);
};
const build = () =>
  spawnSync(process.execPath, ['bin/build.mjs', '--if-stale'], { cwd: project, encoding: 'utf8' });
const runCompiled = () =>
  spawnSync(process.execPath, ['dist/src/main.js'], { cwd: project, encoding: 'utf8' }).stdout;
const stampTime = () => statSync(path.join(project, 'dist', '.built')).mtimeMs;

beforeAll(() => {
  project = mkdtempSync(path.join(tmpdir(), 'qwenbot-build-'));
  cpSync(path.join(REPO, 'bin', 'build.mjs'), path.join(project, 'bin', 'build.mjs'));
  cpSync(path.join(REPO, 'tsconfig.build.json'), path.join(project, 'tsconfig.build.json'));
  writeFileSync(path.join(project, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2024',
        module: 'nodenext',
        types: ['node'],
        noEmit: true,
        allowImportingTsExtensions: true,
        rewriteRelativeImportExtensions: true,
      },
    }),
  );
  symlinkSync(path.join(REPO, 'node_modules'), path.join(project, 'node_modules'));
  write(
    'src/main.ts',
    "import { greeting } from './greeting.ts';\nconst who: string = 'dist';\nconsole.log(greeting(who));\n",
  );
  write('src/greeting.ts', 'export const greeting = (who: string): string => "hello from " + who;\n');
  write('src/old.ts', 'export const old = 1;\n');
  write('adapters/.keep', '');
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('bin/build.mjs --if-stale (npm start)', () => {
  it('compiles on the first start, saying so in one line, and the compiled entry runs', () => {
    const first = build();
    expect(first.status).toBe(0);
    expect(first.stderr).toBe('qwenbot: sources changed since the last build; compiling to dist/…\n');
    expect(runCompiled()).toBe('hello from dist\n');
  });

  it('does nothing while the sources are unchanged', () => {
    const before = stampTime();
    const again = build();
    expect([again.status, again.stderr]).toEqual([0, '']);
    expect(stampTime()).toBe(before);
  });

  it('rebuilds after a source changed, and a deleted source leaves no compiled file behind', () => {
    expect(existsSync(path.join(project, 'dist', 'src', 'old.js'))).toBe(true);
    builtAMinuteAgo();
    write('src/greeting.ts', 'export const greeting = (who: string): string => "changed, from " + who;\n');
    rmSync(path.join(project, 'src', 'old.ts'));
    expect(build().status).toBe(0);
    expect(runCompiled()).toBe('changed, from dist\n');
    expect(existsSync(path.join(project, 'dist', 'src', 'old.js'))).toBe(false);
  });

  it('a source that does not parse: exit 1 and a line saying the build failed', () => {
    builtAMinuteAgo();
    write('src/greeting.ts', 'export const greeting = (who: string => {\n');
    const broken = build();
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain('qwenbot: building dist/ failed (tsc -p tsconfig.build.json exited');
  });

  it('without TypeScript installed (npm ci --omit=dev) and stale: exit 1, one line saying what to run', () => {
    rmSync(path.join(project, 'node_modules'));
    builtAMinuteAgo();
    write('src/greeting.ts', 'export const greeting = (who: string): string => who;\n');
    const run = build();
    expect(run.status).toBe(1);
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines.at(-1)).toMatch(
      /^qwenbot: dist\/ is missing or older than src\/, and TypeScript .* is not installed/,
    );
    expect(lines.at(-1)).toContain('npm ci');
    expect(lines.at(-1)).toContain('node src/main.ts');
    symlinkSync(path.join(REPO, 'node_modules'), path.join(project, 'node_modules'));
  });
});

describe('the compiled bot (dist/src/main.js, what npm start and Docker run)', () => {
  beforeAll(() => {
    const built = spawnSync(process.execPath, ['bin/build.mjs', '--if-stale'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(built.status, built.stderr).toBe(0);
  }, 60_000);

  const main = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [path.join(REPO, 'dist', 'src', 'main.js'), ...args], {
      cwd: tmpdir(),
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env },
    });

  it('reads its version from package.json and its settings from config/ (not from dist/)', () => {
    expect(main(['--version']).stdout).toMatch(/^qwenbot \d+\.\d+\.\d+\n$/);
    const noPlatform = main([], { DASHSCOPE_API_KEY: 'sk-build-test-not-a-key' });
    expect(noPlatform.status).toBe(2);
    expect(noPlatform.stderr).toMatch(/^qwenbot: no chat platform is configured/);
  });
});
