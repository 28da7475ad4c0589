/**
 * The bot's V8 memory flags (README "Running in production", "Memory") are set where it is started:
 * `npm start` and the Docker image's CMD start it the same way, and the memory benchmark measures
 * the bot with exactly those flags.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startFlags } from '../bench/memory.ts';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };

/** The flags of the Dockerfile's final CMD ["node", …flags, "src/main.ts"]. */
function dockerCmdFlags(): string[] {
  const cmd = readFileSync('Dockerfile', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('CMD '))
    .at(-1);
  const args = JSON.parse(cmd?.slice('CMD '.length) ?? '[]') as string[];
  expect(args[0]).toBe('node');
  expect(args.at(-1)).toBe('src/main.ts');
  return args.slice(1, -1);
}

describe('Node flags the bot runs with', () => {
  it('are the same for npm start, the Docker image and the memory benchmark', () => {
    const npmStart = manifest.scripts.start
      ?.match(/node ((?:--\S+ )*)src\/main\.ts/)?.[1]
      ?.trim()
      .split(' ');
    expect(npmStart).toEqual(dockerCmdFlags());
    expect(startFlags()).toEqual(dockerCmdFlags());
    // A smaller young generation: see README "Memory" for the measurements behind the value.
    expect(dockerCmdFlags()).toContainEqual(expect.stringMatching(/^--max-semi-space-size=\d+$/));
  });
});
