import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TurnOutcome } from '../../src/core/service.ts';
import type { Coordinator, Turn } from '../../src/store/coordination.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { type DashScopeSim, lastUserText, startDashScopeSim } from '../support/dashscope-sim.ts';
import { channelRef, type Harness, message, startHarness, TEST_API_KEY } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('redis blip tests: REDIS_URL is not set, skipping (they need a Redis server)');
const runPrefix = `qwenbot-test-blip-${process.pid}-${Date.now()}`;

let sim: DashScopeSim;
const harnesses: Harness[] = [];
let redis: RedisClient;

async function instance(namespace: string, url: string, config: Record<string, unknown> = {}) {
  const h = await startHarness({ storeUrl: url, reuseSim: sim, namespace, config });
  harnesses.push(h);
  return h;
}

/** Resolves when `n` places have been taken in a conversation's line. */
async function placesTaken(ns: string, conversation: string, n: number): Promise<void> {
  while (Number(await redis.get(`${ns}:coord:turn:${conversation}:ticket`)) < n)
    await new Promise((r) => setImmediate(r));
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { opened, open };
}

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  if (!REDIS_URL) return;
  redis = createClient({ url: REDIS_URL }) as unknown as RedisClient;
  await redis.connect();
});

afterAll(async () => {
  for (const h of harnesses) await h.close().catch(() => undefined);
  await sim.close();
  if (!REDIS_URL) return;
  await redis.close();
  await deleteRedisKeys(runPrefix, REDIS_URL);
});

describe.skipIf(!REDIS_URL)('Redis connections', () => {
  it('an instance holds one connection for store and coordination, and one more for wake-ups', async () => {
    const ns = `${runPrefix}-conns`;
    const h = await instance(ns, REDIS_URL ?? '');
    // The conversation's turn is held (answers stream outside it, so the test takes it itself).
    const holding = await h.app.coordinator.turn('test:W1:C1');
    const second = h.app.service.handleMessage(message('second'), new RecordingSurface());
    await placesTaken(ns, 'test:W1:C1', 2);
    // The second waits: subscribed to its conversation's wake-ups.
    const channel = `${ns}:coord:turn:test:W1:C1:wake`;
    while (Number(((await redis.sendCommand(['PUBSUB', 'NUMSUB', channel])) as unknown[])[1]) < 1)
      await new Promise((r) => setImmediate(r));
    const name = `qwenbot:${h.config.instanceId}`;
    const list = String(await redis.sendCommand(['CLIENT', 'LIST']));
    const mine = list
      .split('\n')
      .map((line) => /\bname=(\S*)/.exec(line)?.[1])
      .filter((n) => n === name || n?.startsWith(`${name}:`));
    expect(mine.sort()).toEqual([name, `${name}:wake`]);
    await holding.release();
    expect((await second).status).toBe('answered');
  });
});

type Hold = { instance: string; turn: Turn };

/** Records every held turn; throws the test's verdict when two instances hold one conversation. */
function watchHolders(coordinators: Array<[string, Coordinator]>, overlaps: string[]): void {
  const holders = new Map<string, Hold[]>();
  for (const [instance, coordinator] of coordinators) {
    const turn = coordinator.turn.bind(coordinator);
    coordinator.turn = async (conversation, options) => {
      const held = await turn(conversation, options);
      const live = (holders.get(conversation) ?? []).filter((h) => !h.turn.signal?.aborted);
      if (live.length) overlaps.push(`${conversation}: ${instance} took the turn ${live[0]?.instance} holds`);
      const hold = { instance, turn: held };
      holders.set(conversation, [...live, hold]);
      return {
        signal: held.signal,
        release: async () => {
          holders.set(
            conversation,
            (holders.get(conversation) ?? []).filter((h) => h !== hold),
          );
          await held.release();
        },
      };
    };
  }
}

describe.skipIf(!REDIS_URL)('a Redis blip longer than the heartbeat, under load from two instances', () => {
  it('no conversation’s turn is held by two instances at once, nothing stored is lost or doubled, turns resume', async () => {
    const ns = `${runPrefix}-blip`;
    const proxy = await startTcpProxy(Number(new URL(REDIS_URL ?? '').port || 6379));
    const config = { store: { turnHeartbeatSec: 1, turnTimeoutSec: 60 } };
    // A reaches Redis through the proxy (its link is cut); B directly.
    const a = await instance(ns, proxy.url, config);
    const b = await instance(ns, REDIS_URL ?? '', config);
    const overlaps: string[] = [];
    watchHolders(
      [
        ['A', a.app.coordinator],
        ['B', b.app.coordinator],
      ],
      overlaps,
    );
    const channels = ['C1', 'C2', 'C3'];
    const held = gate();
    for (const c of channels)
      sim.script({
        holdAfterChunks: 1,
        hold: held.opened,
        match: (body) => lastUserText(body).endsWith(`a-${c}`),
      });
    const ask = (h: Harness, text: string, c: string) => {
      const surface = new RecordingSurface({ paceBucket: `blip-${c}` });
      const outcome = h.app.service.handleMessage(message(text, { conversation: channelRef(c) }), surface);
      return { surface, outcome };
    };
    // A is mid-answer in every conversation (its questions stored, its turns given back).
    const fromA = channels.map((c) => ask(a, `a-${c}`, c));
    for (const c of channels) await placesTaken(ns, `test:W1:${c}`, 1);
    while (sim.chatRequests().filter((r) => /a-C\d$/.test(lastUserText(r))).length < channels.length)
      await new Promise((r) => setImmediate(r));

    proxy.cut();
    // B's messages are answered in their turns while A cannot reach Redis.
    const fromB = channels.map((c) => ask(b, `b-${c}`, c));
    const bOutcomes = await Promise.all(fromB.map((x) => x.outcome));
    expect(bOutcomes.map((o: TurnOutcome) => o.status)).toEqual(['answered', 'answered', 'answered']);
    for (const [i, c] of channels.entries())
      expect(fromB[i]?.surface.shown()).toEqual([`Echo: Alice: b-${c}`]);
    // A's answers hold no turn while they stream: they finish where people see them, but cannot be
    // stored while A is cut off (storing takes the turn), and say so in the log.
    held.open();
    const aOutcomes = await Promise.all(fromA.map((x) => x.outcome));
    for (const [i, x] of fromA.entries()) {
      expect(aOutcomes[i]?.status).toBe('answered');
      expect(x.surface.shown()).toEqual([`Echo: Alice: a-${channels[i]}`]);
    }
    expect(a.logs.text).toContain('could not store the answer');

    // Back: A answers again, without a restart, in every conversation.
    proxy.restore();
    const client = a.app.coordinator as unknown as { client: RedisClient };
    if (!client.client.isReady) await new Promise((r) => client.client.once('ready', r));
    const after = channels.map((c) => ask(a, `after-${c}`, c));
    expect((await Promise.all(after.map((x) => x.outcome))).map((o) => o.status)).toEqual([
      'answered',
      'answered',
      'answered',
    ]);

    expect(overlaps).toEqual([]);
    for (const c of channels) {
      const stored = (await b.app.service.history.load(`test:W1:${c}`)).map((turn) => turn.text);
      // A's question was stored before the blip; its answer, finished during it, is not.
      expect(stored).toEqual([
        `a-${c}`,
        `b-${c}`,
        `Echo: Alice: b-${c}`,
        `after-${c}`,
        `Echo: Alice: after-${c}`,
      ]);
    }
    await proxy.close();
  });
});
