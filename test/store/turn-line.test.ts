import { createClient } from '@redis/client';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { RedisCoordinator, type Turn } from '../../src/store/coordination.ts';
import { TurnTimeoutError } from '../../src/store/turn-errors.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';
import { countRedisCommands } from '../support/redis-commands.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('turn line tests: REDIS_URL is not set, skipping (they need a Redis server)');
const runPrefix = `qwenbot-test-turns-${process.pid}-${Date.now()}`;
const opened: RedisCoordinator[] = [];

async function coordinator(
  name: string,
  opts: { heartbeatMs?: number; turnTimeoutMs?: number; url?: string; log?: never } = {},
): Promise<RedisCoordinator> {
  const c = await RedisCoordinator.connect({ url: REDIS_URL ?? '', prefix: `${runPrefix}-${name}`, ...opts });
  opened.push(c);
  return c;
}

/** Lets Redis replies (real I/O) arrive while the clock is fake: one macrotask turn. */
const ioTurn = () => new Promise((r) => setImmediate(r));

/** Waits for `promise` while fake time moves on in `stepMs` steps, giving Redis replies room between. */
async function waitAdvancing<T>(promise: Promise<T>, stepMs: number): Promise<T> {
  let done = false;
  const settled = promise.finally(() => {
    done = true;
  });
  while (!done) {
    await ioTurn();
    await vi.advanceTimersByTimeAsync(stepMs);
  }
  return settled;
}

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  for (const c of opened) await c.close();
  if (REDIS_URL) await deleteRedisKeys(runPrefix, REDIS_URL);
});

describe.skipIf(!REDIS_URL)('conversation turns on Redis', () => {
  it('20 turns in one conversation go in order, and waiting costs no commands however long each is held', async () => {
    const c = await coordinator('twenty', { heartbeatMs: 60_000, turnTimeoutMs: 600_000 });
    const commands = countRedisCommands(c.client);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    let held: Turn = await c.turn('conv');
    const served: number[] = [];
    const waiting = Array.from({ length: 19 }, (_, i) =>
      c.turn('conv').then((turn) => {
        served.push(i);
        return turn;
      }),
    );
    for (const next of waiting) {
      // Each holder answers for 10 s (fake); the 15 ms poll of old issued ~12,000 GETs meanwhile.
      await vi.advanceTimersByTimeAsync(10_000);
      await held.release();
      held = await waitAdvancing(next, 15);
    }
    await held.release();
    expect(served).toEqual([...Array(19).keys()]);
    // A join, a look when woken as next (another if a wake-up crosses the first look), the release.
    console.log(
      `turn line: ${commands.count()} Redis commands for 20 turns of 10 s in one conversation`,
      commands.byName(),
    );
    expect(commands.count()).toBeLessThanOrEqual(20 * 5);
  });

  it('an evicted serving counter does not stall the line: the next turn comes at once', async () => {
    const c = await coordinator('evicted-serving');
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const key = `${runPrefix}-evicted-serving:turn:conv`;
    await (await c.turn('conv')).release();
    await (await c.turn('conv')).release();
    await redis.del(`${key}:serving`);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    // No time passes: before, ticket 3 waited for ticket 2 to be released again (a heartbeat per ticket).
    await (await c.turn('conv')).release();
    // A holder is still honoured when serving vanishes under it: the next waits for its release.
    const holder = await c.turn('conv');
    await redis.del(`${key}:serving`);
    const order: string[] = [];
    const next = c.turn('conv').then((t) => {
      order.push('next');
      return t;
    });
    for (let i = 0; i < 20; i++) await ioTurn();
    order.push('holder released');
    await holder.release();
    await (await next).release();
    expect(order).toEqual(['holder released', 'next']);
    await redis.close();
  });

  it('an evicted ticket counter does not hand out a ticket already served', async () => {
    const c = await coordinator('evicted-ticket');
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    for (let i = 0; i < 3; i++) await (await c.turn('conv')).release();
    await redis.del(`${runPrefix}-evicted-ticket:turn:conv:ticket`);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    await (await c.turn('conv')).release();
    expect(await redis.get(`${runPrefix}-evicted-ticket:turn:conv:serving`)).toBe('4');
    await redis.close();
  });

  it('a wait has a deadline; the place is given up and the line moves on past it', async () => {
    const patient = await coordinator('deadline', { turnTimeoutMs: 600_000, heartbeatMs: 60_000 });
    const hasty = await coordinator('deadline', { turnTimeoutMs: 5_000, heartbeatMs: 60_000 });
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const ticketKey = `${runPrefix}-deadline:turn:conv:ticket`;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const holder = await patient.turn('conv');
    const late = hasty.turn('conv').then(
      () => 'served',
      (err: unknown) => err,
    );
    // Places are taken in this order: the expiring one (ticket 2) before the one behind it.
    while (Number(await redis.get(ticketKey)) < 2) await ioTurn();
    const after = patient.turn('conv');
    while (Number(await redis.get(ticketKey)) < 3) await ioTurn();
    expect(await waitAdvancing(late, 500)).toBeInstanceOf(TurnTimeoutError);
    await holder.release();
    // The one behind the expired place is served at once, not after a dead-holder heartbeat (60 s).
    await (await after).release();
    await redis.close();
  });
});

describe.skipIf(!REDIS_URL)('a Redis link cut', () => {
  it('a lost heartbeat is logged and marks the held turn lost before another instance may take it', async () => {
    const proxy = await startTcpProxy(Number(new URL(REDIS_URL ?? 'redis://x:6379').port || 6379));
    const warnings: string[] = [];
    const events: string[] = [];
    const log = {
      warn: (o: unknown, msg?: string) => warnings.push(`${msg ?? o} ${JSON.stringify(o)}`),
      error: (o: unknown, msg?: string) => warnings.push(`${msg ?? o} ${JSON.stringify(o)}`),
      info: () => undefined,
      debug: () => undefined,
      child() {
        return this;
      },
    };
    const prefix = `${runPrefix}-lost`;
    const a = await RedisCoordinator.connect({ url: proxy.url, prefix, heartbeatMs: 300, log: log as never });
    const b = await RedisCoordinator.connect({ url: REDIS_URL ?? '', prefix, heartbeatMs: 300 });
    opened.push(a, b);
    const held = await a.turn('conv');
    expect(held.signal?.aborted).toBe(false);
    const lost = new Promise<void>((resolve) =>
      held.signal?.addEventListener('abort', () => {
        events.push('a lost');
        resolve();
      }),
    );
    const taken = b.turn('conv').then((turn) => {
      events.push('b took over');
      return turn;
    });
    proxy.cut();
    await lost;
    await (await taken).release();
    expect(events).toEqual(['a lost', 'b took over']);
    expect(warnings.join('\n')).toContain('could not renew the conversation turn heartbeat');
    expect(warnings.join('\n')).toContain('conversation turn lost');
    proxy.restore();
    // A's late release does not disturb the line B moved on.
    await held.release();
    await a.close();
    await b.close();
    opened.splice(opened.indexOf(a), 2);
    await proxy.close();
  });

  it('a waiter whose link was cut while the turn was handed on takes it once the link is back', async () => {
    const proxy = await startTcpProxy(Number(new URL(REDIS_URL ?? 'redis://x:6379').port || 6379));
    const prefix = `${runPrefix}-rejoin`;
    // A heartbeat of a minute: only the look on reconnect can hand the turn on within the test.
    const holderSide = await RedisCoordinator.connect({ url: REDIS_URL ?? '', prefix, heartbeatMs: 60_000 });
    const waiterSide = await RedisCoordinator.connect({ url: proxy.url, prefix, heartbeatMs: 60_000 });
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const held = await holderSide.turn('conv');
    const waiting = waiterSide.turn('conv');
    const channel = `${prefix}:turn:conv:wake`;
    while (Number(((await redis.sendCommand(['PUBSUB', 'NUMSUB', channel])) as unknown[])[1]) < 1)
      await ioTurn();
    proxy.cut();
    // The wake-up published now cannot reach the waiter.
    await held.release();
    proxy.restore();
    await (await waiting).release();
    expect(await redis.get(`${prefix}:turn:conv:serving`)).toBe('2');
    await redis.close();
    await holderSide.close();
    await waiterSide.close();
    await proxy.close();
  });
});
