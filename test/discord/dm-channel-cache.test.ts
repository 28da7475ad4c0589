/**
 * DM channels do not pile up in discord.js's channel cache: one is created for every person who writes
 * to the bot, and discord.js offers no limit or sweeper for it. The adapter keeps the most recently
 * used `discord.cachedDmChannels` and forgets the others; a person whose channel was forgotten still
 * gets answered.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { FakeUser } from '../support/fake-discord/index.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

const KEEP = 5;
const PEOPLE = 30;

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness({
    sim: { responder: () => 'ok' },
    config: { discord: { cachedDmChannels: KEEP } },
  });
});
afterAll(async () => {
  await h?.close();
});

test('after many people DM the bot, only the most recent DM channels stay cached', async () => {
  const people: FakeUser[] = [];
  for (let p = 0; p < PEOPLE; p++) people.push(h.fake.addUser(`dm${p}`, `DM ${p}`));
  const before = h.outcomes.length;
  for (const u of people) h.fake.dm(u, 'hello');
  const outcomes = await h.turns(before + PEOPLE, 60_000);
  expect(outcomes.slice(before).filter((o) => o.status === 'answered')).toHaveLength(PEOPLE);

  const client = h.discord.client;
  const dms = () => [...client.channels.cache.values()].filter((c) => c.isDMBased());
  expect(dms()).toHaveLength(Math.min(KEEP, PEOPLE));

  // The first person's channel was forgotten long ago; they write again and get their answer.
  const first = people[0] as FakeUser;
  const again = h.fake.dm(first, 'still there?');
  const [outcome] = await h.turns(before + PEOPLE + 1, 30_000).then((o) => o.slice(-1));
  expect(outcome?.status).toBe('answered');
  expect(h.fake.botMessages(again.channel_id).map((m) => m.content)).toEqual(['ok', 'ok']);
  expect(dms()).toHaveLength(KEEP);
}, 90_000);
