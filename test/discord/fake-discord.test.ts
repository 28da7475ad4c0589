/**
 * The fake Discord itself enforces the platform rules the bot must live with, so the end-to-end tests
 * can fail for the right reasons: content length, rate-limit buckets, the interaction deadline, auth.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type FakeDiscord, startFakeDiscord } from '../support/fake-discord/index.ts';

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
