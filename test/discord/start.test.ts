/**
 * `npm start` as an operator runs it: the real entry point (src/main.ts) in its own process, with only
 * environment variables pointing it at the fake Discord and the DashScope simulator.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { type FakeDiscord, startFakeDiscord } from '../support/fake-discord/index.ts';

const API_KEY = 'sk-start-test-0123456789';
let sim: DashScopeSim;
let fake: FakeDiscord;
let child: ChildProcess | undefined;
const lines: string[] = [];

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: API_KEY });
  fake = await startFakeDiscord('start.test.bot-token');
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await fake.close();
  await sim.close();
});

test('with DISCORD_TOKEN set, the bot connects, logs its name and invite URL, answers, and stops cleanly', async () => {
  const guild = fake.addGuild('Ops');
  const channel = fake.addChannel(guild, 'general');
  const alice = fake.addUser('alice', 'Alice');
  fake.addMember(guild, alice);
  const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
  child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH,
      DISCORD_TOKEN: fake.token,
      DISCORD_API_URL: fake.apiUrl,
      DASHSCOPE_API_KEY: API_KEY,
      DASHSCOPE_BASE_URL: sim.baseUrl,
      QWENBOT_STORE: 'sqlite://:memory:',
      QWENBOT_CONFIG: '',
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffered = '';
  const collect = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));

  const login = await fake.waitFor(
    () => lines.find((l) => l.includes('logged in to Discord')),
    15_000,
    'login line',
  );
  const record = JSON.parse(login) as { user: string; invite: string };
  expect(record.user).toBe(fake.bot.username);
  expect(record.invite).toContain('scope=bot+applications.commands');
  await fake.waitFor(() => fake.state.globalCommands.length > 0, 10_000, 'command registration');

  fake.say({ author: alice, channelId: channel.id, content: `<@${fake.bot.id}> ping` });
  const reply = await fake.waitFor(
    () => fake.botMessages(channel.id).find((m) => m.components.length === 0 && m.content.includes('ping')),
    10_000,
    'the answer',
  );
  expect(reply.content).toContain('Echo');

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(lines.join('\n')).not.toContain(fake.token);
}, 40_000);
