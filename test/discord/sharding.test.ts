import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { shardOf } from '../support/fake-discord/gateway.ts';
import type { FakeChannel, FakeDiscord, FakeUser } from '../support/fake-discord/index.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** One guild (with a channel Alice is in) on each of `count` shards. */
function guildsOnShards(fake: FakeDiscord, alice: FakeUser, count: number): FakeChannel[] {
  const channels: FakeChannel[] = [];
  for (let i = 0; channels.length < count && i < 200; i++) {
    // A guild's shard follows from the time in its id: on the fake clock, let a millisecond pass.
    vi.advanceTimersByTime(1);
    const guild = fake.addGuild(`Server ${i}`);
    const shard = shardOf(guild.id, count);
    if (channels.some((c) => shardOf(c.guild_id, count) === shard)) continue;
    fake.addMember(guild, alice);
    channels.push(fake.addChannel(guild, 'general'));
  }
  channels.sort((a, b) => shardOf(a.guild_id, count) - shardOf(b.guild_id, count));
  return channels;
}

describe('Discord sharding', () => {
  it('"auto" opens Discord’s recommended number of shards and answers in guilds on each', async () => {
    let channels: FakeChannel[] = [];
    h = await startDiscordHarness({
      globalCommands: true,
      config: { discord: { shards: 'auto' } },
      prepare: (fake, { alice }) => {
        fake.state.recommendedShards = 2;
        // Both shards identify at once, as for a large bot: discord.js would wait 5 real seconds.
        fake.state.maxConcurrency = 2;
        channels = guildsOnShards(fake, alice, 2);
      },
    });
    expect(h.fake.gateway.shards.sort()).toEqual([
      [0, 2],
      [1, 2],
    ]);
    const done = h.expectTurns(2);
    for (const ch of channels)
      h.fake.say({ channelId: ch.id, author: h.alice, content: h.mention(`hello from ${ch.guild_id}`) });
    const outcomes = await done;
    expect(outcomes.map((o) => o.status)).toEqual(['answered', 'answered']);
    for (const ch of channels) expect(h.fake.transcript(ch.id).at(-1)).toContain(`hello from ${ch.guild_id}`);
  });

  it('a process given shard ids answers only the guilds on its shards', async () => {
    let channels: FakeChannel[] = [];
    h = await startDiscordHarness({
      globalCommands: true,
      config: { discord: { shards: [1], shardCount: 2 } },
      prepare: (fake, { alice }) => {
        fake.state.maxConcurrency = 2;
        channels = guildsOnShards(fake, alice, 2);
      },
    });
    expect(h.fake.gateway.shards).toEqual([[1, 2]]);
    const [onShard0, onShard1] = channels as [FakeChannel, FakeChannel];
    const done = h.expectTurns(1);
    h.fake.say({ channelId: onShard0.id, author: h.alice, content: h.mention('not mine') });
    h.fake.say({ channelId: onShard1.id, author: h.alice, content: h.mention('mine') });
    expect((await done).map((o) => o.status)).toEqual(['answered']);
    expect(h.fake.transcript(onShard1.id).at(-1)).toContain('mine');
    expect(h.fake.botMessages(onShard0.id)).toEqual([]);
  });

  it('shard ids without a shard count stop start-up with the key named', () => {
    expect(() => loadConfig({ file: null, env: {}, overrides: { discord: { shards: [0, 1] } } })).toThrow(
      /^discord\.shardCount: is required when shards lists shard ids/,
    );
    expect(() =>
      loadConfig({ file: null, env: {}, overrides: { discord: { shards: [3], shardCount: 2 } } }),
    ).toThrow(/^discord\.shards: shard ids must be below shardCount \(2\)/);
  });
});
