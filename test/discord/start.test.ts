/**
 * `npm start` as an operator runs it: the real entry point (src/main.ts) in its own process, with only
 * environment variables pointing it at the fake Discord and the DashScope simulator.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { showsStop } from '../support/fake-discord/components.ts';
import { type FakeDiscord, startFakeDiscord } from '../support/fake-discord/index.ts';
import { CHILD_NODE_ENV } from '../support/run-main.ts';

const API_KEY = 'sk-start-test-0123456789';
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
let sim: DashScopeSim;
let fake: FakeDiscord;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: API_KEY });
  fake = await startFakeDiscord('start.test.bot-token');
  dir = mkdtempSync(join(tmpdir(), 'qwenbot-discord-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fake.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Bot {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

/** Runs `node src/main.ts` with only environment variables, as `npm start` would. */
function startBot(storeUrl: string, configFile = ''): Bot {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      ...CHILD_NODE_ENV,
      DISCORD_TOKEN: fake.token,
      DISCORD_API_URL: fake.apiUrl,
      DASHSCOPE_API_KEY: API_KEY,
      DASHSCOPE_BASE_URL: sim.baseUrl,
      QWENBOT_STORE: storeUrl,
      QWENBOT_CONFIG: configFile,
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  let buffered = '';
  const collect = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

function loggedIn(bot: Bot): Promise<string> {
  return fake.waitFor(() => bot.lines.find((l) => l.includes('logged in to Discord')), 15_000, 'login line');
}

test('with DISCORD_TOKEN set, the bot connects, logs its name and invite URL, answers, and stops cleanly', async () => {
  const guild = fake.addGuild('Ops');
  const channel = fake.addChannel(guild, 'general');
  const alice = fake.addUser('alice', 'Alice');
  fake.addMember(guild, alice);
  const bot = startBot('sqlite://:memory:');
  const record = JSON.parse(await loggedIn(bot)) as { user: string; invite: string };
  expect(record.user).toBe(fake.bot.username);
  expect(record.invite).toContain('scope=bot+applications.commands');
  await fake.waitFor(() => fake.state.globalCommands.length > 0, 10_000, 'command registration');

  fake.say({ author: alice, channelId: channel.id, content: `<@${fake.bot.id}> ping` });
  const reply = await fake.waitFor(
    // Finished: the Stop button gave way to 👍 / 👎.
    () => fake.botMessages(channel.id).find((m) => m.content.includes('ping') && !showsStop(m)),
    10_000,
    'the answer',
  );
  expect(reply.content).toContain('Echo');

  bot.child.kill('SIGTERM');
  expect(await bot.exited).toBe(0);
  expect(bot.lines.join('\n')).not.toContain(fake.token);
}, 40_000);

test('an answer cut off by a crash is marked as interrupted when the bot starts again', async () => {
  const guild = fake.addGuild('Crashy');
  const channel = fake.addChannel(guild, 'general');
  const bob = fake.addUser('bob', 'Bob');
  fake.addMember(guild, bob);
  const store = `sqlite://${join(dir, 'bot.sqlite')}`;
  const first = startBot(store);
  await loggedIn(first);
  await fake.waitFor(
    () => first.lines.some((l) => l.includes('registered global slash commands')),
    10_000,
    'ready',
  );
  const answer = Array.from({ length: 200 }, (_, i) => `part${i}`).join(' ');
  sim.script({ text: answer, chunkChars: 5, chunkDelayMs: 40 });
  fake.say({ author: bob, channelId: channel.id, content: `<@${fake.bot.id}> write a lot` });
  // Two edits in, the answer is well under way (and its first words were saved for recovery).
  const message = await fake.waitFor(
    () => fake.botMessages(channel.id).find((m) => m.edits >= 2),
    15_000,
    'a streaming answer',
  );
  first.child.kill('SIGKILL');
  await first.exited;
  expect(message.components.length).toBeGreaterThan(0); // still showing Stop: nobody finished it

  const second = startBot(store);
  await loggedIn(second);
  const line = '⚠️ This answer was interrupted (the bot restarted). Please ask again.';
  await fake.waitFor(() => message.content.endsWith(line), 15_000, 'the interrupted line');
  expect(message.components).toEqual([]);
  // Signal handlers are installed once start-up (recovery included) is over.
  await fake.waitFor(
    () => second.lines.some((l) => l.includes('repaired answers interrupted')),
    10_000,
    'repair log',
  );
  const kept = message.content.slice(0, -line.length).trim();
  expect(answer.startsWith(kept)).toBe(true);
  // The partial answer saved before the crash is kept above the line.
  expect(kept.length).toBeGreaterThan(0);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 60_000);

test('a clean stop mid-answer leaves nothing to repair: the next start edits nothing', async () => {
  const guild = fake.addGuild('Tidy');
  const channel = fake.addChannel(guild, 'general');
  const carol = fake.addUser('carol', 'Carol');
  fake.addMember(guild, carol);
  const store = `sqlite://${join(dir, 'tidy.sqlite')}`;
  const config = join(dir, 'no-grace.yaml');
  writeFileSync(config, 'shutdown:\n  graceSeconds: 0\n');
  const first = startBot(store, config);
  await loggedIn(first);
  await fake.waitFor(() => first.lines.some((l) => l.includes('no answer was interrupted')), 10_000, 'ready');
  sim.script({ text: 'words that keep coming '.repeat(50), chunkChars: 10, stallAfterChunks: 6 });
  fake.say({ author: carol, channelId: channel.id, content: `<@${fake.bot.id}> write a lot` });
  const message = await fake.waitFor(
    () => fake.botMessages(channel.id).find((m) => m.content.includes('words that keep')),
    15_000,
    'a streaming answer',
  );
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  const restarting = '⚠️ The bot is restarting; this answer was cut short.';
  expect(message.content.endsWith(restarting)).toBe(true);
  const edits = message.edits;

  const second = startBot(store, config);
  await loggedIn(second);
  await fake.waitFor(
    () => second.lines.some((l) => l.includes('no answer was interrupted')),
    10_000,
    'start-up check',
  );
  expect(second.lines.some((l) => l.includes('repaired answers interrupted'))).toBe(false);
  expect(message.edits).toBe(edits);
  expect(message.content).not.toContain('interrupted');
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 60_000);
