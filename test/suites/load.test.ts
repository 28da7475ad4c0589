/**
 * Load: 500 conversations at once through the real adapter and discord.js against the fake Discord —
 * server channels, threads and DMs — answered by the simulator's echo responder, in two waves.
 * Checks that every message is answered exactly once, each reply carries its own conversation's
 * marker (no cross-talk), the second wave sees its own first turn only, heap growth across the second
 * wave stays under a stated limit, and no promise rejection goes unhandled.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from '../discord/harness.ts';
import { lastUserText } from '../support/dashscope-sim.ts';
import type { FakeChannel, FakeUser } from '../support/fake-discord/index.ts';
import { watchUnhandled } from './support.ts';

const CHANNELS = 200;
const THREADS = 150;
const DMS = 150;
const TOTAL = CHANNELS + THREADS + DMS;
/** Time limit of one wave of 500 answers (2 cores, CI). */
const WAVE_MS = 30_000;
/** Heap growth allowed across the second wave: its 500 new turns and discord.js's message cache. */
const HEAP_GROWTH_LIMIT_MB = 40;

interface Conversation {
  channel: FakeChannel;
  author: FakeUser;
  kind: 'channel' | 'thread' | 'dm';
}

let h: DiscordHarness;
const conversations: Conversation[] = [];
const unhandled = watchUnhandled();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1_048_576;
}

beforeAll(async () => {
  h = await startDiscordHarness({
    config: {
      guards: { userMessagesPerWindow: 100_000 },
      history: { maxTurns: 10 },
      // The shipped time limits: under this load the simulator, the fake and the bot share one event loop.
      qwen: { retryBaseDelayMs: 5, firstTokenTimeoutMs: 60_000, totalTimeoutMs: 300_000 },
    },
  });
  // The fake has no global limit; lift discord.js's client-side 50 requests/s cap so the wave measures
  // the bot rather than that queue (per-channel buckets and the bot's own pacing still apply).
  (h.discord.client.rest.options as { globalRequestsPerSecond: number }).globalRequestsPerSecond = 5000;
  // Echo with the conversation's marker only (the newest user turn), plus how many user turns the
  // model saw, so a reply proves which history it was given.
  h.sim.setResponder((body) => {
    const users = body.messages.filter((m) => m.role === 'user').length;
    return `Echo ${lastUserText(body).replace(/^.*?: /, '')} (${users})`;
  });
  const parents: FakeChannel[] = [];
  for (let i = 0; i < CHANNELS; i++) {
    const channel = h.fake.addChannel(h.guild, `load-${i}`);
    parents.push(channel);
    conversations.push({ channel, author: i % 2 ? h.alice : h.bob, kind: 'channel' });
  }
  for (let i = 0; i < THREADS; i++) {
    const parent = parents[i % parents.length] as FakeChannel;
    const channel = h.fake.createThread(parent, `thread-${i}`, h.alice);
    conversations.push({ channel, author: h.alice, kind: 'thread' });
  }
  for (let i = 0; i < DMS; i++) {
    const author = h.fake.addUser(`dm-user-${i}`);
    conversations.push({ channel: h.fake.dmChannel(author), author, kind: 'dm' });
  }
}, 60_000);

afterAll(async () => {
  unhandled.stop();
  await h?.close();
});

/** Sends one message in every conversation at once; resolves when all have been handled. */
async function wave(n: number): Promise<number> {
  const started = Date.now();
  const done = h.expectTurns(TOTAL, WAVE_MS);
  conversations.forEach((c, i) => {
    const marker = `conv${i}-w${n}`;
    h.fake.say({
      author: c.author,
      channelId: c.channel.id,
      content: c.kind === 'dm' ? marker : h.mention(marker),
    });
  });
  const outcomes = await done;
  const statuses = new Map<string, number>();
  for (const o of outcomes) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
  expect(Object.fromEntries(statuses)).toEqual({ answered: TOTAL });
  // Handled is not yet shown: wait until every conversation shows its final (button-less) reply.
  await h.fake.waitFor(
    () =>
      conversations.every((c) => {
        const replies = h.fake.botMessages(c.channel.id);
        return replies.length >= n && replies.every((m) => m.components.length === 0);
      }),
    WAVE_MS,
    'every reply to be final',
  );
  return Date.now() - started;
}

test(`${TOTAL} conversations (channels, threads, DMs), two waves: each answered once, no cross-talk, bounded memory`, async () => {
  const firstMs = await wave(1);
  const heapAfterFirst = heapMb();
  const rssAfterFirst = process.memoryUsage().rss / 1_048_576;
  const secondMs = await wave(2);
  const heapAfterSecond = heapMb();
  const rssAfterSecond = process.memoryUsage().rss / 1_048_576;

  conversations.forEach((c, i) => {
    // Exactly one reply per message, in order, each with its own marker and its own history only.
    expect(h.fake.botMessages(c.channel.id).map((m) => m.content)).toEqual([
      `Echo conv${i}-w1 (1)`,
      `Echo conv${i}-w2 (2)`,
    ]);
  });
  expect(h.sim.chatRequests()).toHaveLength(2 * TOTAL);
  expect(h.fake.rateLimited).toBe(0);
  expect(unhandled.seen).toEqual([]);
  const growth = heapAfterSecond - heapAfterFirst;
  console.log(
    `load: ${TOTAL} conversations × 2 waves; wave 1 ${firstMs} ms, wave 2 ${secondMs} ms; heap ${heapAfterFirst.toFixed(1)} → ${heapAfterSecond.toFixed(1)} MB (+${growth.toFixed(1)}), rss ${rssAfterFirst.toFixed(0)} → ${rssAfterSecond.toFixed(0)} MB`,
  );
  expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT_MB);
}, 90_000);
