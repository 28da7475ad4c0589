/**
 * How the bot is started in production (README "Running in production", "Memory"): `npm start` and the
 * Docker image's CMD run the compiled entry point with the same V8 memory flags, and the memory
 * benchmark measures the bot with exactly those flags.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startFlags } from '../bench/memory.ts';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };

/** The arguments of the Dockerfile's final CMD ["node", …flags, entry]. */
function dockerCmd(): string[] {
  const cmd = readFileSync('Dockerfile', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('CMD '))
    .at(-1);
  const args = JSON.parse(cmd?.slice('CMD '.length) ?? '[]') as string[];
  expect(args[0]).toBe('node');
  return args.slice(1);
}

describe('Node flags the bot runs with', () => {
  it('are the same for npm start, the Docker image and the memory benchmark', () => {
    const npmStart = manifest.scripts.start
      ?.match(/node ((?:--\S+ )*)dist\/src\/main\.js$/)?.[1]
      ?.trim()
      .split(' ');
    const docker = dockerCmd();
    expect(npmStart).toEqual(docker.slice(0, -1));
    expect(startFlags()).toEqual(docker.slice(0, -1));
    // A smaller young generation: see README "Memory" for the measurements behind the value.
    expect(docker).toContainEqual(expect.stringMatching(/^--max-semi-space-size=\d+$/));
    // V8's heuristics for a small footprint (README "Memory": less idle RSS for a little more CPU per turn).
    expect(docker).toContain('--optimize-for-size');
  });

  it('of the busy profile (npm run start:busy) trade the memory flags for gc() when quiet', () => {
    const busy = startFlags('start:busy');
    // Without --optimize-for-size and the small young generation: half the CPU per answer under load.
    expect(busy).not.toContain('--optimize-for-size');
    expect(busy).not.toContainEqual(expect.stringMatching(/^--max-semi-space-size/));
    // src/util/idle-memory.ts gives the pages a busy period grew back once the bot is quiet.
    expect(busy).toContain('--expose-gc');
    // The rest as npm start.
    expect(startFlags('start').filter((f) => busy.includes(f))).toEqual(
      busy.filter((f) => f !== '--expose-gc'),
    );
    expect(manifest.scripts['start:busy']).toMatch(
      /node bin\/build\.mjs --if-stale && node .*dist\/src\/main\.js$/,
    );
  });

  it('run the compiled JavaScript, built first by npm start when the sources changed', () => {
    expect(dockerCmd().at(-1)).toBe('dist/src/main.js');
    expect(manifest.scripts.start).toMatch(/node bin\/build\.mjs --if-stale && node .*dist\/src\/main\.js$/);
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/^RUN npm run build && npm prune --omit=dev/m);
  });
});
