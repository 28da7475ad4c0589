/**
 * Load: 500 conversations at once across both platforms, in two waves — 250 on Discord (server
 * channels, threads, DMs; real discord.js against the fake Discord) and 250 on Slack (threads under
 * channel mentions, streamed natively, and DMs; real Bolt against the fake Slack) — answered by the
 * simulators' echo responder. Every message is answered exactly once, each reply carries its own
 * conversation's marker and history (no cross-talk), heap growth across the second wave stays under a
 * stated limit, and no promise rejection goes unhandled.
 *
 * REAL TIME on purpose: this measures what one event loop gets through (each wave's time is printed),
 * and under this load fake time would fall behind real socket timeouts (undici keep-alive).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from '../discord/harness.ts';
import { type Rig, startRig } from '../slack/rig.ts';
import { type ChatBody, lastUserText } from '../support/dashscope-sim.ts';
import { showsStop } from '../support/fake-discord/components.ts';
import type { FakeChannel, FakeUser } from '../support/fake-discord/index.ts';
import { until, watchUnhandled } from './support.ts';

const DISCORD = { channels: 100, threads: 75, dms: 75 };
/** Slack DMs are answered by post-and-update, paced at 50 requests a minute for the whole workspace. */
const SLACK = { threads: 245, dms: 5 };
const TOTAL = 500;
/**
 * Deadline of one wave of 500 answers: it only turns a hang into a failure. How long a wave takes is
 * printed, not asserted: on a shared machine it follows the load, not the bot.
 */
const WAVE_MS = 120_000;
/** Heap growth allowed across the second wave: its 500 new turns and the clients' message caches. */
const HEAP_GROWTH_LIMIT_MB = 40;

interface DiscordConv {
  channel: FakeChannel;
  author: FakeUser;
  dm: boolean;
}
interface SlackConv {
  channel: string;
  user: string;
  /** Thread of a channel conversation (set by its first message). */
  threadTs?: string;
}

let h: DiscordHarness;
let rig: Rig;
const discord: DiscordConv[] = [];
const slack: SlackConv[] = [];
const unhandled = watchUnhandled();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1_048_576;
}

/** Echoes the newest user turn without the speaker's name, and how many user turns the model saw. */
function echo(body: ChatBody): string {
  const users = body.messages.filter((m) => m.role === 'user').length;
  return `Echo ${lastUserText(body).replace(/^.*?: /, '')} (${users})`;
}

const config = {
  guards: { userMessagesPerWindow: 100_000 },
  history: { maxTurns: 10 },
  // The shipped time limits: under this load the simulators, the fakes and the bot share one event loop.
  qwen: { retryBaseDelayMs: 5, firstTokenTimeoutMs: 60_000, totalTimeoutMs: 300_000 },
};

beforeAll(async () => {
  h = await startDiscordHarness({ config, clock: 'real' });
  // The fake has no global limit; lift discord.js's client-side 50 requests/s cap so the wave measures
  // the bot rather than that queue (per-channel buckets and the bot's own pacing still apply).
  (h.discord.client.rest.options as { globalRequestsPerSecond: number }).globalRequestsPerSecond = 5000;
  h.sim.setResponder(echo);
  const parents: FakeChannel[] = [];
  for (let i = 0; i < DISCORD.channels; i++) {
    const channel = h.fake.addChannel(h.guild, `load-${i}`);
    parents.push(channel);
    discord.push({ channel, author: i % 2 ? h.alice : h.bob, dm: false });
  }
  for (let i = 0; i < DISCORD.threads; i++) {
    const channel = h.fake.createThread(parents[i % parents.length] as FakeChannel, `thread-${i}`, h.alice);
    discord.push({ channel, author: h.alice, dm: false });
  }
  for (let i = 0; i < DISCORD.dms; i++) {
    const author = h.fake.addUser(`dm-user-${i}`);
    discord.push({ channel: h.fake.dmChannel(author), author, dm: true });
  }

  // Slack's per-method tiers are lifted, on the fake and on the bot's side (slack.keepTiers): one
  // workspace could not take 250 answers a minute, and the tiers have their own tests. The core's
  // pacing is unchanged.
  rig = await startRig({
    fake: { tiers: {} },
    config: { ...config, slack: { keepTiers: false } },
    clock: 'real',
  });
  rig.sim.setResponder(echo);
  for (let i = 0; i < SLACK.threads; i++) slack.push({ channel: `C0LOAD${i % 25}`, user: 'U0ALICE' });
  for (let i = 0; i < SLACK.dms; i++) {
    const user = `U0DM${i}`;
    rig.fake.addUser({ id: user, name: `dm${i}`, displayName: `DM ${i}`, locale: 'en-US' });
    slack.push({ channel: `D0DM${i}`, user });
  }
}, 60_000);

afterAll(async () => {
  unhandled.stop();
  await h?.close();
  await rig?.close();
});

const slackReplies = (c: SlackConv) =>
  (c.threadTs ? rig.fake.thread(c.channel, c.threadTs) : rig.fake.channel(c.channel)).filter((m) => m.bot);

/** One message in every conversation on both platforms at once; resolves when all are shown final. */
async function wave(n: number): Promise<number> {
  const started = Date.now();
  const discordDone = h.expectTurns(discord.length, WAVE_MS);
  discord.forEach((c, i) => {
    const marker = `d${i}-w${n}`;
    h.fake.say({ author: c.author, channelId: c.channel.id, content: c.dm ? marker : h.mention(marker) });
  });
  const slackDone = Promise.all(
    slack.map((c, i) => {
      const marker = `s${i}-w${n}`;
      const dm = c.channel.startsWith('D');
      const said = rig.say({
        channel: c.channel,
        user: c.user,
        text: dm ? marker : `<@${rig.fake.bot.userId}> ${marker}`,
        ...(c.threadTs ? { threadTs: c.threadTs } : {}),
      });
      if (!dm) c.threadTs ??= said.ts;
      return rig.deliver(said, WAVE_MS);
    }),
  );
  const outcomes = await discordDone;
  await slackDone;
  expect(outcomes.filter((o) => o.status !== 'answered')).toEqual([]);
  // Handled is not yet shown: wait until every conversation shows its final reply.
  await until(
    () =>
      discord.every((c) => {
        const replies = h.fake.botMessages(c.channel.id);
        return replies.length >= n && replies.every((m) => !showsStop(m));
      }) && slack.every((c) => slackReplies(c).filter((m) => !m.streaming).length >= n),
    'every reply to be final',
    WAVE_MS,
    50,
  );
  return Date.now() - started;
}

test(
  `${TOTAL} conversations on Discord and Slack, two waves: each answered once, no cross-talk, bounded memory`,
  async () => {
    expect(discord.length + slack.length).toBe(TOTAL);
    const firstMs = await wave(1);
    const heapAfterFirst = heapMb();
    const rssAfterFirst = process.memoryUsage().rss / 1_048_576;
    const secondMs = await wave(2);
    const heapAfterSecond = heapMb();
    const rssAfterSecond = process.memoryUsage().rss / 1_048_576;

    // Exactly one reply per message, in order, each with its own marker and its own history only.
    discord.forEach((c, i) => {
      expect(h.fake.botMessages(c.channel.id).map((m) => m.content)).toEqual([
        `Echo d${i}-w1 (1)`,
        `Echo d${i}-w2 (2)`,
      ]);
    });
    slack.forEach((c, i) => {
      expect(slackReplies(c).map((m) => m.text)).toEqual([`Echo s${i}-w1 (1)`, `Echo s${i}-w2 (2)`]);
    });
    expect(h.sim.chatRequests()).toHaveLength(2 * discord.length);
    expect(rig.sim.chatRequests()).toHaveLength(2 * slack.length);
    expect(h.fake.rateLimited).toBe(0);
    expect(unhandled.seen).toEqual([]);
    const growth = heapAfterSecond - heapAfterFirst;
    console.log(
      `load: ${TOTAL} conversations (Discord ${discord.length}, Slack ${slack.length}) × 2 waves; wave 1 ${firstMs} ms, wave 2 ${secondMs} ms; heap ${heapAfterFirst.toFixed(1)} → ${heapAfterSecond.toFixed(1)} MB (+${growth.toFixed(1)}), rss ${rssAfterFirst.toFixed(0)} → ${rssAfterSecond.toFixed(0)} MB`,
    );
    expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT_MB);
  },
  3 * WAVE_MS,
);
