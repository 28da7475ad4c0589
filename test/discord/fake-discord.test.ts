/**
 * The fake Discord itself enforces the platform rules the bot must live with, so the end-to-end tests
 * can fail for the right reasons: content length, rate-limit buckets, the interaction deadline, auth.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startDiscord } from '../../adapters/discord/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import { type FakeDiscord, startFakeDiscord } from '../support/fake-discord/index.ts';
import { silentLogger } from '../support/harness.ts';

let fake: FakeDiscord;
let channelId: string;
beforeAll(async () => {
  fake = await startFakeDiscord('secret-token');
  const guild = fake.addGuild('Rules');
  channelId = fake.addChannel(guild, 'rules').id;
});
afterAll(async () => {
  await fake.close();
});

function call(method: string, path: string, body?: unknown, auth = true) {
  return fetch(`${fake.apiUrl}/v10${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: 'Bot secret-token' } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

test('content over 2,000 characters is refused with Discord’s form error', async () => {
  const res = await call('POST', `/channels/${channelId}/messages`, { content: 'x'.repeat(2001) });
  expect(res.status).toBe(400);
  const body = (await res.json()) as {
    code: number;
    errors: { content: { _errors: Array<{ code: string }> } };
  };
  expect(body.code).toBe(50035);
  expect(body.errors.content._errors[0]?.code).toBe('BASE_TYPE_MAX_LENGTH');
  const ok = await call('POST', `/channels/${channelId}/messages`, { content: 'x'.repeat(2000) });
  expect(ok.status).toBe(200);
});

test('requests without the bot token are unauthorized', async () => {
  const res = await call('POST', `/channels/${channelId}/messages`, { content: 'hi' }, false);
  expect(res.status).toBe(401);
});

test('a route bucket advertises its limits and answers 429 with retry_after once spent', async () => {
  const guild = fake.addGuild('Buckets');
  const ch = fake.addChannel(guild, 'busy').id;
  const statuses: number[] = [];
  let last: Response | undefined;
  for (let i = 0; i < 6; i++) {
    last = await call('POST', `/channels/${ch}/messages`, { content: `n${i}` });
    statuses.push(last.status);
    if (i === 0) {
      expect(last.headers.get('x-ratelimit-limit')).toBe('5');
      expect(last.headers.get('x-ratelimit-remaining')).toBe('4');
      expect(Number(last.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(0);
      expect(last.headers.get('x-ratelimit-bucket')).toBeTruthy();
    }
  }
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  const body = (await last?.json()) as { retry_after: number; global: boolean };
  expect(body.retry_after).toBeGreaterThan(0);
  expect(body.global).toBe(false);
  expect(last?.headers.get('retry-after')).toBeTruthy();
  // Another channel has its own bucket.
  expect((await call('POST', `/channels/${channelId}/messages`, { content: 'elsewhere' })).status).toBe(200);
});

test('an interaction answered after 3 seconds is unknown; a second answer is refused', async () => {
  const user = fake.addUser('late');
  const late = fake.slash({ user, channelId, name: 'help' });
  late.createdAt -= 3500;
  const res = await fetch(`${fake.apiUrl}/v10/interactions/${late.id}/${late.token}/callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 5 }),
  });
  expect(res.status).toBe(404);
  expect(((await res.json()) as { code: number }).code).toBe(10062);

  const onTime = fake.slash({ user, channelId, name: 'help' });
  const first = await fetch(`${fake.apiUrl}/v10/interactions/${onTime.id}/${onTime.token}/callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 5 }),
  });
  expect(first.status).toBe(204);
  const second = await fetch(`${fake.apiUrl}/v10/interactions/${onTime.id}/${onTime.token}/callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 5 }),
  });
  expect(((await second.json()) as { code: number }).code).toBe(40060);
});

test('messages sent without allowed_mentions would ping; with parse: [] they do not', async () => {
  const target = fake.addUser('target');
  const loud = await call('POST', `/channels/${channelId}/messages`, {
    content: `@everyone <@${target.id}>`,
  });
  const quiet = await call('POST', `/channels/${channelId}/messages`, {
    content: `@everyone <@${target.id}>`,
    allowed_mentions: { parse: [] },
  });
  const l = (await loud.json()) as { mention_everyone: boolean; mentions: unknown[] };
  const q = (await quiet.json()) as { mention_everyone: boolean; mentions: unknown[] };
  expect([l.mention_everyone, l.mentions.length]).toEqual([true, 1]);
  expect([q.mention_everyone, q.mentions.length]).toEqual([false, 0]);
});

test('the gateway says HELLO, answers IDENTIFY with READY and GUILD_CREATE, and ACKs heartbeats', async () => {
  const info = (await (await call('GET', '/gateway/bot')).json()) as { url: string; shards: number };
  expect(info.shards).toBe(1);
  const ws = new WebSocket(`${info.url}?v=10&encoding=json`);
  const received: Array<{ op: number; t?: string; d?: Record<string, unknown> }> = [];
  const next = (pred: (m: (typeof received)[number]) => boolean) =>
    new Promise<(typeof received)[number]>((resolve) => {
      const found = received.find(pred);
      if (found) return resolve(found);
      ws.addEventListener('message', function listener(ev) {
        const m = JSON.parse(String(ev.data)) as (typeof received)[number];
        if (pred(m)) {
          ws.removeEventListener('message', listener);
          resolve(m);
        }
      });
    });
  ws.addEventListener('message', (ev) => received.push(JSON.parse(String(ev.data))));
  const hello = await next((m) => m.op === 10);
  expect(hello.d?.heartbeat_interval).toBeGreaterThan(0);
  ws.send(JSON.stringify({ op: 2, d: { token: 'secret-token', intents: 513, properties: {} } }));
  const ready = await next((m) => m.t === 'READY');
  expect((ready.d?.user as { id: string } | undefined)?.id).toBe(fake.bot.id);
  const guild = await next((m) => m.t === 'GUILD_CREATE');
  expect((guild.d?.channels as Array<{ id: string }> | undefined)?.some((c) => c.id === channelId)).toBe(
    true,
  );
  ws.send(JSON.stringify({ op: 1, d: 2 }));
  await next((m) => m.op === 11);
  ws.close();
});

test('a wrong token closes the gateway with 4004', async () => {
  const info = (await (await call('GET', '/gateway/bot')).json()) as { url: string };
  const ws = new WebSocket(`${info.url}?v=10&encoding=json`);
  const closed = new Promise<number>((resolve) => ws.addEventListener('close', (ev) => resolve(ev.code)));
  ws.addEventListener('message', (ev) => {
    if ((JSON.parse(String(ev.data)) as { op: number }).op === 10) {
      ws.send(JSON.stringify({ op: 2, d: { token: 'wrong', intents: 0, properties: {} } }));
    }
  });
  expect(await closed).toBe(4004);
});

test('the bot refuses to start with a wrong token, saying which setting to check', async () => {
  const config = loadConfig({
    file: null,
    env: { DISCORD_TOKEN: 'not-the-token', DISCORD_API_URL: fake.apiUrl, DASHSCOPE_API_KEY: 'sk-unused' },
  });
  const service = { handleMessage: async () => ({ status: 'ignored', reason: '' }) } as never;
  const identifies = fake.gateway.identifies;
  await expect(startDiscord({ config, service, log: silentLogger() })).rejects.toThrow(
    /Discord login failed at .*: .*Check DISCORD_TOKEN/,
  );
  expect(fake.gateway.identifies).toBe(identifies);
  expect(fake.requests('GET /gateway/bot').at(-1)?.status).toBe(401);
});
