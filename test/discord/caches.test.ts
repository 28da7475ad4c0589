/**
 * discord.js caches stay bounded: after many people talk in many channels and DMs, the client holds
 * no messages, no users but its own, and a few members besides its own (the adapter reads the author's
 * member when a message arrives), and the REST client forgets the rate-limit handlers of channels
 * that went quiet.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REST_HANDLER_SWEEP_MS } from '../../adapters/discord/caches.ts';
import type { FakeChannel, FakeUser } from '../support/fake-discord/index.ts';
import { until } from '../support/fake-time.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness({ sim: { responder: () => 'ok' } });
});
afterAll(async () => {
  await h?.close();
});

const CHANNELS = 6;
const PEOPLE = 30;
const MESSAGES_PER_CHANNEL = 25;

test('after many messages in many channels, message, user and member caches stay small', async () => {
  const channels: FakeChannel[] = [];
  for (let c = 0; c < CHANNELS; c++) channels.push(h.fake.addChannel(h.guild, `busy-${c}`));
  const people: FakeUser[] = [];
  for (let p = 0; p < PEOPLE; p++) {
    const u = h.fake.addUser(`person${p}`, `Person ${p}`);
    h.fake.addMember(h.guild, u, { nick: `Nick${p}` });
    people.push(u);
  }
  const before = h.outcomes.length;
  let sent = 0;
  for (let i = 0; i < MESSAGES_PER_CHANNEL; i++) {
    for (const [c, ch] of channels.entries()) {
      const author = people[(i * CHANNELS + c) % PEOPLE] as FakeUser;
      // Unaddressed chatter arrives too (Message Content intent off: the bot still gets the event).
      h.fake.say({ author, channelId: ch.id, content: i % 5 === 0 ? h.mention(`q${i}`) : `chat ${i}` });
      if (i % 5 === 0) sent++;
    }
  }
  // DMs from some of them: one DM channel each.
  for (const u of people.slice(0, 10)) {
    h.fake.dm(u, 'hello');
    sent++;
  }
  const outcomes = await h.turns(before + sent, 60_000);
  expect(outcomes.slice(before).filter((o) => o.status === 'answered')).toHaveLength(sent);

  const client = h.discord.client;
  for (const ch of channels) {
    const cached = client.channels.cache.get(ch.id);
    expect(cached, 'the guild channel itself stays cached').toBeDefined();
    if (cached && 'messages' in cached) expect(cached.messages.cache.size).toBe(0);
  }
  // The bot's own user stays; other people are not kept after their message was read.
  expect(client.users.cache.has(h.fake.bot.id)).toBe(true);
  expect(client.users.cache.size).toBeLessThanOrEqual(1);
  const guild = client.guilds.cache.get(h.guild.id);
  expect(guild?.members.me?.id, 'the bot keeps its own member (permissions)').toBe(h.fake.bot.id);
  expect(guild?.members.cache.size).toBeLessThanOrEqual(20);
  // The adapter still read each author's member when the message arrived: their nicknames reached the
  // prompts (a member missing from the cache would have shown the username instead).
  const prompts = h.sim.chatRequests().map((r) => JSON.stringify(r.messages));
  for (let p = 0; p < CHANNELS; p++) expect(prompts.some((x) => x.includes(`Nick${p}:`))).toBe(true);
}, 90_000);

test('the REST client forgets the rate-limit handlers of channels that went quiet', async () => {
  const rest = h.discord.client.rest;
  const channels = Array.from({ length: 12 }, (_, c) => h.fake.addChannel(h.guild, `once-${c}`));
  const before = h.outcomes.length;
  // One person each: a person's message budget is not what is measured here.
  for (const [c, ch] of channels.entries()) {
    const author = h.fake.addUser(`once${c}`, `Once ${c}`);
    h.fake.addMember(h.guild, author);
    h.fake.say({ author, channelId: ch.id, content: h.mention('hi') });
  }
  const outcomes = await h.turns(before + channels.length, 60_000);
  expect(outcomes.slice(before).filter((o) => o.status === 'answered')).toHaveLength(channels.length);
  // One handler per route and channel: `<route hash>:<channel id>`.
  const ofChannels = () =>
    [...rest.handlers.keys()].filter((key) => channels.some((ch) => key.endsWith(`:${ch.id}`)));
  expect(ofChannels().length).toBeGreaterThanOrEqual(channels.length);

  // Nobody writes any more: within two sweeps (fake time) none of them is held.
  await until(
    () => ofChannels().length === 0,
    "the channels' handlers swept",
    2 * REST_HANDLER_SWEEP_MS + 5_000,
  );
}, 90_000);
