/**
 * A Node older than the supported one gets one line saying what to install, before anything else
 * fails. Runs the real old Node of the machine (the system's /usr/bin/node, or a `node` on PATH), which
 * is what a new operator's `npm start` would use.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
};

function versionOf(node: string): number[] | undefined {
  try {
    return execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' })
      .trim()
      .split('.')
      .map(Number);
  } catch {
    return undefined;
  }
}

/** A Node binary older than 22 on this machine, if there is one. */
function findOldNode(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'node'));
  const candidates = ['/usr/bin/node', '/usr/local/bin/node', ...onPath].filter((f) => existsSync(f));
  return candidates.find((f) => (versionOf(f)?.[0] ?? 99) < 22);
}

const oldNode = findOldNode();
const oldVersion = oldNode ? versionOf(oldNode)?.join('.') : undefined;
if (!oldNode)
  console.log('node-gate: skipped the old-Node cases: no Node older than 22 found on this machine');

const GATE_LINE = new RegExp(
  `^qwenbot needs Node\\.js 22\\.18 or newer \\(engines ">=22\\.18\\.0"\\), but this is Node v${oldVersion?.replaceAll('.', '\\.')} .*https://nodejs\\.org.*nvm install 24.*npm install --prefix \\S+ node@24.*\\n$`,
);

/** The environment a person with only the old Node has: it is the `node` npm's scripts find. */
function oldNodeEnv(): NodeJS.ProcessEnv {
  const dir = path.dirname(oldNode ?? '');
  return { PATH: `${dir}${path.delimiter}/usr/bin${path.delimiter}/bin`, HOME: process.env.HOME ?? '/tmp' };
}

describe.runIf(oldNode)(`on Node ${oldVersion} (older than the supported ${manifest.engines.node})`, () => {
  it('the gate prints one line naming the Node needed and how to get it, and exits 1', () => {
    const run = spawnSync(oldNode ?? '', ['bin/check-node.mjs'], { encoding: 'utf8', env: oldNodeEnv() });
    expect(run.stderr).toMatch(GATE_LINE);
    expect(run.stdout).toBe('');
    expect(run.status).toBe(1);
  });

  it('bin/qwenbot.js prints only that line, not ERR_UNKNOWN_FILE_EXTENSION', () => {
    const run = spawnSync(oldNode ?? '', ['bin/qwenbot.js', 'chat', 'hello'], {
      encoding: 'utf8',
      env: oldNodeEnv(),
    });
    expect(run.stderr).toMatch(GATE_LINE);
    expect(run.status).toBe(1);
  });

  const npmCli = oldNode ? path.join(path.dirname(realpathSync(oldNode)), 'npm') : '';
  it.runIf(existsSync(npmCli)).each(['start', 'demo', 'test', 'bench'])(
    'npm run %s stops at the gate with its line (no type-stripping or Map.groupBy crash)',
    (script) => {
      // A filter no test file matches: should the gate ever let the old Node through, vitest stops at
      // once instead of running the whole suite on it.
      const extra = script === 'test' ? ['--', 'no-test-file-matches-this'] : [];
      const run = spawnSync(oldNode ?? '', [realpathSync(npmCli), 'run', '--silent', script, ...extra], {
        encoding: 'utf8',
        env: oldNodeEnv(),
        timeout: 30_000,
      });
      const first = run.stderr.split('\n')[0];
      expect(`${first}\n`).toMatch(GATE_LINE);
      expect(run.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|groupBy|SyntaxError/);
      expect(run.status).not.toBe(0);
    },
  );
});

describe('on a supported Node', () => {
  it('the gate is silent and exits 0', () => {
    const run = spawnSync(process.execPath, ['bin/check-node.mjs'], { encoding: 'utf8' });
    expect(run).toMatchObject({ status: 0, stdout: '', stderr: '' });
  });

  it('every npm entry point runs the gate first', () => {
    for (const script of ['start', 'demo', 'test', 'bench']) {
      expect(manifest.scripts[script]).toMatch(/^node bin\/check-node\.mjs && /);
    }
  });
});
