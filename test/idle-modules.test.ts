/**
 * What an idle bot loads (README "Memory"): the MCP SDK only once a server is configured, one copy of
 * undici for discord.js, the SDK and Bolt, and only the rate limiters the bot uses. Each of these was a
 * few MB of an idle bot's heap.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const RECORD_PACKAGES = `
import { registerHooks } from 'node:module';
const files = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); files.add(r.url); return r; } });
await import('./src/app.ts');
await import('./adapters/discord/index.ts');
await import('./src/server.ts');
process.stdout.write(JSON.stringify([...files]));
`;

describe('modules an idle bot loads', () => {
  it('leave out the MCP SDK, extra undici copies and unused rate limiters', () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', RECORD_PACKAGES], {
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    const files = JSON.parse(run.stdout) as string[];
    expect(files.some((f) => f.includes('/node_modules/discord.js/'))).toBe(true);
    expect(files.filter((f) => f.includes('@modelcontextprotocol'))).toEqual([]);
    const undiciCopies = new Set(
      files.filter((f) => f.includes('/undici/')).map((f) => f.slice(0, f.lastIndexOf('/undici/'))),
    );
    expect([...undiciCopies]).toHaveLength(1);
    expect(files.filter((f) => /rate-limiter-flexible\/(index|lib\/RateLimiterMongo)\.js$/.test(f))).toEqual(
      [],
    );
  });
});
