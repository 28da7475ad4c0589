/**
 * Tool switches on a shared store (Redis): two instances of the bot, an admin switches a server on one,
 * the other sees it at once (no per-process cache of shared settings), and deciding reads the store once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ConversationRef } from '../../src/core/types.ts';
import { toolScopeOf } from '../../src/tools/access.ts';
import { fakeToolCatalog, fakeToolServers } from '../support/fake-tools.ts';
import {
  adminAuthor as admin,
  aliceAuthor as alice,
  channelRef,
  type Harness,
  startHarness,
} from '../support/harness.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';
import { watchStoreTraffic } from '../support/store-traffic.ts';

const REDIS_URL = process.env.REDIS_URL;
const namespace = `qwenbot-test-tools-${process.pid}-${Date.now()}`;
const harnesses: Harness[] = [];

afterAll(async () => {
  for (const h of harnesses) await h.close().catch(() => undefined);
  if (REDIS_URL) await deleteRedisKeys(namespace, REDIS_URL);
});

describe.skipIf(!REDIS_URL)('tool switches on Redis', () => {
  it("one instance's switch is what the other instance offers and shows, and deciding takes one store read", async () => {
    const start = async () => {
      const h = await startHarness({
        storeUrl: REDIS_URL,
        namespace,
        config: { faq: { enabled: false }, mcp: fakeToolServers('C-OPS') },
        tools: fakeToolCatalog(),
        ...(harnesses[0] ? { reuseSim: harnesses[0].sim } : {}),
      });
      harnesses.push(h);
      return h;
    };
    const [a, b] = [await start(), await start()];
    const thread: ConversationRef = channelRef('C-OPS', { thread: '1700000000.000100' });
    const channel = channelRef('C-OPS');
    const done = await a.app.service.runCommand({
      name: 'tools',
      rawArgs: 'disable weather',
      author: admin,
      conversation: channel,
    });
    expect(done.text).toBe('**weather** is now disabled in this conversation.');

    const shown = await b.app.service.runCommand({
      name: 'tools',
      rawArgs: '',
      author: alice,
      conversation: thread,
    });
    expect(shown.text).toContain('`get_alerts` — ⏸️ disabled here by an admin (this thread’s channel)');
    const { traffic, reset } = watchStoreTraffic(b.app.store);
    reset();
    const offered = await b.app.tools.access.allowedServers(toolScopeOf(thread, alice.id), [
      'weather',
      'files',
      'ops',
      'legacy',
    ]);
    expect([...offered].sort()).toEqual(['files', 'ops']);
    expect(traffic.roundTrips).toBe(1);
  });
});
