/**
 * The store goes away and comes back, seen from Discord: a private redis-server (append-only file, so
 * what was written survives its restart) is killed while the bot runs — between answers, and in the
 * middle of one — then started again. The user gets a readable line, the log says what failed, the bot
 * answers again without a restart, and every user turn written before the outage is still there.
 *
 * REAL TIME on purpose: a real redis-server process is killed and started again, and the Redis
 * clients' reconnect timing against that process is part of what is tested.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from '../discord/harness.ts';
import { finishedReply, LEVEL, logged, until } from './support.ts';

// Like the other Redis tests: runs when REDIS_URL says Redis is in use here, and needs the binary to
// start a private server it can kill (the shared one is never touched).
const haveRedisServer = existsSync('/usr/bin/redis-server') || existsSync('/usr/local/bin/redis-server');
const run = Boolean(process.env.REDIS_URL) && haveRedisServer;
if (!process.env.REDIS_URL) console.log('store outage suite: REDIS_URL is not set, skipping');
else if (!haveRedisServer) console.log('store outage suite: no redis-server binary here, skipping');

const dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-outage-'));
let port = 0;
let redis: ChildProcess | undefined;
let h: DiscordHarness;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

function startRedis(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
    const child = spawn('redis-server', [...args, '--appendonly', 'yes', '--appendfsync', 'always'], {
      stdio: 'pipe',
    });
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) resolve(child);
    });
    child.on('error', reject);
  });
}

async function killRedis(): Promise<void> {
  const child = redis;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  if (!run) return;
  port = await freePort();
  redis = await startRedis();
  h = await startDiscordHarness({
    storeUrl: `redis://127.0.0.1:${port}`,
    namespace: 'outage',
    clock: 'real',
    config: { guards: { userMessagesPerWindow: 1000 } },
  });
}, 30_000);

afterAll(async () => {
  await h?.close().catch(() => undefined);
  await killRedis();
  rmSync(dir, { recursive: true, force: true });
});

/** RedisCoordinator's default heartbeat: a holder silent this long is skipped as dead. */
const DEAD_HOLDER_MS = 15_000;

const STORE_LINE = 'The bot could not save or load this conversation. Please try again shortly.';

test.skipIf(!run)(
  'Redis down between answers and during one: a clear line, a log, recovery without restart, no lost turn',
  async () => {
    const channel = h.fake.addChannel(h.guild, 'outage');
    const key = `discord:${h.guild.id}:${channel.id}`;
    const ask = async (text: string) => {
      const turn = h.expectTurns(1, 20_000);
      const asked = h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention(text) });
      const [outcome] = await turn;
      const reply = await finishedReply(h.fake, channel.id, asked.id, `the reply to ${text}`);
      return { outcome, reply: reply.content };
    };

    expect(await ask('before')).toMatchObject({
      outcome: { status: 'answered' },
      reply: 'Echo: Alice: before',
    });

    // Down between answers: the next message cannot take its turn, and the user is told so.
    await killRedis();
    let mark = h.logs.lines.length;
    expect(await ask('while down')).toMatchObject({ outcome: { status: 'refused' }, reply: STORE_LINE });
    const [failed] = logged(h.logs, 'could not take a turn in the shared store', mark);
    expect(failed?.level).toBe(LEVEL.error);
    expect(JSON.stringify(failed?.err)).toMatch(/take a turn failed/);

    redis = await startRedis();
    // Both Redis connections must be back: the coordinator's and the store's (Keyv) — they reconnect
    // on their own schedules.
    await until(
      () =>
        h.app.coordinator.shared && (h.app.coordinator as { client?: { isReady: boolean } }).client?.isReady,
      'the Redis client to reconnect',
    );
    await until(
      () =>
        h.app.store.get('__ping__').then(
          () => true,
          () => false,
        ),
      'the store to answer again',
    );
    expect(await ask('after')).toMatchObject({
      outcome: { status: 'answered' },
      reply: 'Echo: Alice: after',
    });

    // Down in the middle of an answer: the user's turn was stored before the model was called; the
    // answer is still shown; storing it fails and is logged.
    h.sim.script({ text: 'A slow answer that outlives the store.', chunkChars: 4, chunkDelayMs: 40 });
    mark = h.logs.lines.length;
    const turn = h.expectTurns(1, 20_000);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('during') });
    await until(() => h.fake.botMessages(channel.id).length === 4, 'the slow answer to start');
    await killRedis();
    const [during] = await turn;
    expect(during?.status).toBe('answered');
    expect(h.fake.botMessages(channel.id).at(-1)?.content).toBe('A slow answer that outlives the store.');
    expect(logged(h.logs, 'could not store the answer', mark)[0]?.level).toBe(LEVEL.error);

    redis = await startRedis();
    await until(
      () => (h.app.coordinator as { client?: { isReady: boolean } }).client?.isReady,
      'the Redis client to reconnect',
    );
    const started = Date.now();
    expect(await ask('after again')).toMatchObject({
      outcome: { status: 'answered' },
      reply: 'Echo: Alice: after again',
    });
    // The turn released during the outage was handed on once Redis was back: no wait for the 15 s
    // dead-holder timeout (the coordinator's default heartbeat).
    const waited = Date.now() - started;
    console.log(`store outage: first answer after the mid-answer outage took ${waited} ms`);
    expect(waited).toBeLessThan(DEAD_HOLDER_MS);
    // Every user turn the bot accepted is stored, in order; the refused one was never accepted.
    const users = (await h.app.service.history.load(key)).filter((t) => t.role === 'user').map((t) => t.text);
    expect(users).toEqual(['before', 'after', 'during', 'after again']);
  },
  60_000,
);
