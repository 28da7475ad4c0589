/**
 * `npm start` while a platform cannot connect, as a supervisor sees it: the real entry point in its
 * own process, pointed at a fake Discord whose gateway never finishes the handshake. /readyz is 503,
 * SIGTERM stops it at once with exit 0 (docker stop), and when the only platform has not connected
 * within platforms.connectTimeoutSeconds it exits 1 with one line on stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DashScopeSim, startDashScopeSim } from './support/dashscope-sim.ts';
import { type FakeDiscord, startFakeDiscord } from './support/fake-discord/index.ts';
import { CHILD_NODE_ENV } from './support/run-main.ts';

const API_KEY = 'sk-signals-test-0123456789';
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let sim: DashScopeSim;
let fake: FakeDiscord;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: API_KEY });
  fake = await startFakeDiscord('signals.bot-token');
  fake.gateway.silent = true;
  dir = mkdtempSync(join(tmpdir(), 'qwenbot-signals-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fake.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Bot {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

function startBot(configFile = ''): Bot {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      ...CHILD_NODE_ENV,
      DISCORD_TOKEN: fake.token,
      DISCORD_API_URL: fake.apiUrl,
      DASHSCOPE_API_KEY: API_KEY,
      DASHSCOPE_BASE_URL: sim.baseUrl,
      QWENBOT_STORE: 'sqlite://:memory:',
      QWENBOT_CONFIG: configFile,
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines = (stream: NodeJS.ReadableStream | null) => {
    const out: string[] = [];
    let buffered = '';
    stream?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      out.push(...parts.filter(Boolean));
    });
    return out;
  };
  const stdout = lines(child.stdout);
  const stderr = lines(child.stderr);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

test('while the gateway handshake never finishes: /readyz is 503, and SIGTERM exits 0 at once', async () => {
  const opened = fake.gateway.opened;
  const bot = startBot();
  const listening = await fake.waitFor(
    () => bot.stdout.find((l) => l.includes('http server listening')),
    15_000,
    'the HTTP server line',
  );
  const port = (JSON.parse(listening) as { port: number }).port;
  await fake.waitFor(() => fake.gateway.opened > opened, 15_000, 'a gateway connection');
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  expect([res.status, await res.json()]).toEqual([
    503,
    {
      status: 'not ready',
      failures: { discord: 'connecting: gateway handshake not finished (no READY yet)' },
    },
  ]);
  const signalled = Date.now();
  bot.child.kill('SIGTERM');
  expect(await bot.exited).toBe(0);
  expect(Date.now() - signalled).toBeLessThan(3000);
  expect(bot.stderr).toEqual([]);
  expect(bot.stdout.some((l) => l.includes('stopped during start-up (SIGTERM)'))).toBe(true);
}, 30_000);

test('when the only platform does not connect in time, it exits 1 with one line on stderr', async () => {
  const config = join(dir, 'short-wait.yaml');
  writeFileSync(config, 'platforms:\n  connectTimeoutSeconds: 0.5\n');
  const bot = startBot(config);
  expect(await bot.exited).toBe(1);
  expect(bot.stderr).toEqual([
    "qwenbot: no chat platform connected within 0.5 s: discord (gateway handshake not finished (no READY yet)). Check the network and the platform's status (platforms.connectTimeoutSeconds sets the wait).",
  ]);
  const logged = bot.stdout.filter((l) => l.includes('did not connect within'));
  expect(logged.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
    'discord did not connect within 0.5 s: gateway handshake not finished (no READY yet)',
  ]);
  expect(bot.stdout.join('\n')).not.toContain(fake.token);
}, 30_000);
