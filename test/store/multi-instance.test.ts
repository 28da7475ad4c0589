import { existsSync } from 'node:fs';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DashScopeSim, lastUserText, startDashScopeSim } from '../support/dashscope-sim.ts';
import { until } from '../support/fake-time.ts';
import { type Harness, message, startHarness, TEST_API_KEY } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';
import { freePort, startRedis } from '../support/redis-server.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL)
  console.log('multi-instance tests: REDIS_URL is not set, skipping (they need a Redis server)');
const runPrefix = `qwenbot-test-${process.pid}-${Date.now()}`;

let sim: DashScopeSim;
const harnesses: Harness[] = [];

async function instance(
  namespace: string,
  url = REDIS_URL ?? '',
  config: Record<string, unknown> = {},
): Promise<Harness> {
  const h = await startHarness({ storeUrl: url, reuseSim: sim, namespace, config });
  harnesses.push(h);
  return h;
}

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
});

afterAll(async () => {
  for (const h of harnesses) await h.close().catch(() => undefined);
  await sim.close();
  if (!REDIS_URL) return;
  // Leave nothing behind on the shared Redis.
  await deleteRedisKeys(runPrefix, REDIS_URL);
});

describe.skipIf(!REDIS_URL)('two instances on one Redis', () => {
  afterEach(() => sim.setResponder((body) => `Echo: ${lastUserText(body)}`));

  it('the same event delivered to both instances is answered once', async () => {
    const ns = `${runPrefix}-dedupe`;
    const [a, b] = [await instance(ns), await instance(ns)];
    const event = message('hello from slack', { id: '1700000000.000100', eventId: 'Ev123' });
    const [sa, sb] = [new RecordingSurface(), new RecordingSurface()];
    const [ra, rb] = await Promise.all([
      a.app.service.handleMessage(event, sa),
      b.app.service.handleMessage({ ...event }, sb),
    ]);
    expect([ra.status, rb.status].sort()).toEqual(['answered', 'ignored']);
    expect([...sa.shown(), ...sb.shown()]).toEqual(['Echo: Alice: hello from slack']);
    // A redelivery (Slack retry) with the same event id, to either instance, is dropped too.
    expect(
      (
        await b.app.service.handleMessage(
          message('hello from slack', { eventId: 'Ev123' }),
          new RecordingSurface(),
        )
      ).status,
    ).toBe('ignored');
  });

  it('interleaved messages for one conversation: one answer each, history in arrival order', async () => {
    const ns = `${runPrefix}-order`;
    const [a, b] = [await instance(ns), await instance(ns)];
    sim.setResponder((body) => `re ${lastUserText(body).replace('Alice: ', '')}`);
    sim.script({ text: 're m0', firstTokenDelayMs: 150, match: (body) => lastUserText(body).endsWith('m0') });
    const outcomes: Array<Promise<unknown>> = [];
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    for (let i = 0; i < 6; i++) {
      const target = i % 2 === 0 ? a : b;
      outcomes.push(target.app.service.handleMessage(message(`m${i}`), new RecordingSurface()));
      // Arrival order is the order the places in line are taken: wait until this one has its ticket.
      await until(
        async () => Number(await redis.get(`${ns}:coord:turn:test:W1:C1:ticket`)) >= i + 1,
        `message m${i} to take its ticket`,
        10_000,
        1,
      );
    }
    await redis.close();
    const results = (await Promise.all(outcomes)) as Array<{ status: string }>;
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('answered'));
    const turns = await a.app.service.history.load('test:W1:C1');
    expect(turns.map((t) => t.text)).toEqual([
      'm0',
      're m0',
      'm1',
      're m1',
      'm2',
      're m2',
      'm3',
      're m3',
      'm4',
      're m4',
      'm5',
      're m5',
    ]);
  });

  it('askers split across two instances are answered side by side; history keeps arrival order', async () => {
    const ns = `${runPrefix}-busy`;
    const [a, b] = [await instance(ns), await instance(ns)];
    sim.setResponder((body) => `re ${lastUserText(body)}`);
    let open = () => {};
    const allAsked = new Promise<void>((resolve) => {
      open = resolve;
    });
    const ASKERS = 4;
    // Every answer waits after its first words until all questions reached the model: answered one
    // after another (one instance holding the conversation's turn), the first would wait for ever.
    for (let i = 0; i < ASKERS; i++) sim.script({ holdAfterChunks: 1, hold: allAsked });
    const asked = sim.chatRequests().length;
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const outcomes: Array<Promise<{ status: string }>> = [];
    let anyDone = false;
    for (let i = 0; i < ASKERS; i++) {
      const target = i % 2 === 0 ? a : b;
      const author = { id: `U${i}`, name: `Asker${i}`, isBot: false };
      const outcome = target.app.service.handleMessage(message(`q${i}`, { author }), new RecordingSurface());
      void outcome.then(() => (anyDone = true));
      outcomes.push(outcome);
      // Arrival order is the order the places in line are taken: wait until this one has its ticket.
      while (Number(await redis.get(`${ns}:coord:turn:test:W1:C1:ticket`)) < i + 1)
        await new Promise((r) => setImmediate(r));
    }
    await redis.close();
    while (sim.chatRequests().length < asked + ASKERS && !anyDone) await new Promise((r) => setImmediate(r));
    expect(anyDone).toBe(false);
    open();
    expect((await Promise.all(outcomes)).map((r) => r.status)).toEqual(Array(ASKERS).fill('answered'));
    const turns = await b.app.service.history.load('test:W1:C1');
    expect(turns.map((t) => t.text)).toEqual(
      Array.from({ length: ASKERS }, (_, i) => [`q${i}`, `re Asker${i}: q${i}`]).flat(),
    );
  });

  it('rate limits and usage are counted across instances', async () => {
    const ns = `${runPrefix}-limits`;
    const config = { guards: { userMessagesPerWindow: 3, userWindowSeconds: 60 } };
    const [a, b] = [await instance(ns, REDIS_URL, config), await instance(ns, REDIS_URL, config)];
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) {
      const target = i % 2 === 0 ? a : b;
      statuses.push(
        (
          await target.app.service.handleMessage(
            message(`q${i}`, {
              conversation: { platform: 'test', workspace: 'W1', channel: `C${i}`, isDM: false },
            }),
            new RecordingSurface(),
          )
        ).status,
      );
    }
    expect(statuses).toEqual(['answered', 'answered', 'answered', 'refused']);
    const totals = await b.app.service.usage.totals({ kind: 'user', platform: 'test', id: 'U1' });
    expect(totals.all.answers).toBe(3);
  });
});

const haveRedisServer = existsSync('/usr/bin/redis-server') || existsSync('/usr/local/bin/redis-server');
if (!haveRedisServer) console.log('redis outage test: no redis-server binary here, skipping');

describe.skipIf(!REDIS_URL || !haveRedisServer)('Redis outage', () => {
  it('answers with a clear line while Redis is down and recovers without a restart; nothing is dropped silently', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    const h = await instance(`${runPrefix}-outage`, url);
    expect((await h.app.service.handleMessage(message('before'), new RecordingSurface())).status).toBe(
      'answered',
    );

    redis.kill('SIGKILL');
    await new Promise((r) => redis.once('exit', r));
    const during = new RecordingSurface();
    const outcome = await h.app.service.handleMessage(message('during the outage'), during);
    expect(outcome.status).toBe('refused');
    expect(during.shown()).toEqual([
      'The bot could not save or load this conversation. Please try again shortly.',
    ]);
    expect(h.logs.text).toContain('store');

    redis = await startRedis(port);
    let after = await h.app.service.handleMessage(message('after'), new RecordingSurface());
    for (let i = 0; i < 50 && after.status !== 'answered'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await h.app.service.handleMessage(message('after'), new RecordingSurface());
    }
    expect(after.status).toBe('answered');
    // The restarted server is empty (no persistence): what is there now was written after recovery.
    const turns = await h.app.service.history.load('test:W1:C1');
    expect(turns.map((t) => t.text)).toEqual(['after', 'Echo: Alice: after']);
    await h.close();
    harnesses.splice(harnesses.indexOf(h), 1);
    redis.kill('SIGKILL');
  });
});
