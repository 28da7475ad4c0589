/**
 * `/channel mode all|mentions` end to end through discord.js: in mode all the bot answers every message
 * a person writes in the channel (and its threads), still not bots', empty or its own; only admins set
 * it; without the Message Content intent the command says the bot cannot read those messages.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FakeChannel, FakeInteraction } from '../support/fake-discord/index.ts';
import type { DiscordHarness } from './harness.ts';
import { intentPair } from './intent-pair.ts';

const harnesses = intentPair();
let h: DiscordHarness;
beforeAll(async () => {
  h = await harnesses.withIntent();
});
afterAll(() => harnesses.close());

/** What the person who ran the command was shown (the reply, or its private follow-up). */
async function shown(on: DiscordHarness, it: FakeInteraction): Promise<string> {
  const text = () => {
    const followUp = it.followUps[0] ? on.fake.state.findMessage(it.followUps[0]) : undefined;
    if (followUp) return followUp.content;
    const original = it.originalId ? on.fake.state.findMessage(it.originalId) : undefined;
    return original && !original.deleted && original.content ? original.content : '';
  };
  return on.fake.waitFor(text, 10_000, `the reply to interaction ${it.id}`);
}

/** Runs `/channel` (with a mode) as `user` in `channel` and returns what they were shown. */
function channelCommand(on: DiscordHarness, channel: FakeChannel, user = on.mod, mode?: string) {
  const options = mode ? { mode } : undefined;
  return shown(
    on,
    on.fake.slash({ user, channelId: channel.id, name: 'channel', ...(options ? { options } : {}) }),
  );
}

/** The bot's answers (replies to people's messages; command replies are not). */
function answers(on: DiscordHarness, channel: FakeChannel) {
  return on.fake.botMessages(channel.id).filter((m) => m.message_reference);
}

/** Every message is handled in order: once this mention is answered, everything before it was passed over. */
async function sentinel(channel: FakeChannel): Promise<void> {
  h.sim.script({ text: 'Sentinel answer.' });
  const turn = h.expectTurns(1);
  h.fake.say({ author: h.bob, channelId: channel.id, content: h.mention('sentinel') });
  await turn;
}

describe('mode all', () => {
  test('answers a message that does not mention the bot; a bot’s, an empty one and its own are not answered', async () => {
    const channel = h.fake.addChannel(h.guild, 'everything');
    expect(await channelCommand(h, channel)).toBe('Here the bot answers only when mentioned or replied to.');
    expect(await channelCommand(h, channel, h.mod, 'all')).toBe(
      'From now on, here the bot answers every message, not only mentions.',
    );
    expect(await channelCommand(h, channel)).toBe('Here the bot answers every message, not only mentions.');

    h.sim.script({ text: 'Happy to help with that.' });
    const turn = h.expectTurns(1);
    const asked = h.fake.say({
      author: h.alice,
      channelId: channel.id,
      content: 'how do I rotate the logs?',
    });
    const [outcome] = await turn;
    expect(outcome?.status).toBe('answered');
    expect(JSON.stringify(h.sim.chatRequests().at(-1)?.messages)).toContain('how do I rotate the logs?');
    const reply = h.fake.botMessages(channel.id).at(-1);
    expect(reply?.message_reference?.message_id).toBe(asked.id);
    expect(reply?.content).toBe('Happy to help with that.');

    const deployBot = h.fake.addUser('deploy-bot');
    deployBot.bot = true;
    h.fake.addMember(h.guild, deployBot);
    const before = h.sim.chatRequests().length;
    h.fake.say({ author: deployBot, channelId: channel.id, content: 'deploy 42 finished' });
    h.fake.say({ author: h.alice, channelId: channel.id, content: '' });
    await sentinel(channel);
    expect(h.sim.chatRequests().length).toBe(before + 1);
    expect(JSON.stringify(h.sim.chatRequests().at(-1)?.messages)).not.toContain('deploy 42');
    // Two answers in the channel: to Alice's question and to the sentinel; nothing to the bot's own replies.
    expect(answers(h, channel)).toHaveLength(2);
  });

  test('a thread inherits its channel’s mode unless the thread sets its own', async () => {
    const channel = h.fake.addChannel(h.guild, 'inherit');
    await channelCommand(h, channel, h.mod, 'all');
    const thread = h.fake.createThread(channel, 'a topic', h.alice);
    expect(await channelCommand(h, thread)).toBe(
      'In this thread the bot answers every message, not only mentions, as in its channel.',
    );
    h.sim.script({ text: 'Answered in the thread.' });
    let turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: thread.id, content: 'no mention in this thread' });
    await turn;
    expect(h.fake.botMessages(thread.id).at(-1)?.content).toBe('Answered in the thread.');

    // Set on the thread itself, typed in a mention: the channel keeps mode all.
    turn = h.expectTurns(1);
    h.fake.say({ author: h.mod, channelId: thread.id, content: h.mention('/channel mode mentions') });
    await turn;
    expect(h.fake.botMessages(thread.id).at(-1)?.content).toBe(
      'From now on, here the bot answers only when mentioned or replied to.',
    );
    const before = h.sim.chatRequests().length;
    h.fake.say({ author: h.alice, channelId: thread.id, content: 'still no mention' });
    h.sim.script({ text: 'Channel still in mode all.' });
    turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: 'and in the channel?' });
    await turn;
    expect(h.sim.chatRequests().length).toBe(before + 1);
    expect(JSON.stringify(h.sim.chatRequests().at(-1)?.messages)).not.toContain('still no mention');
    expect(await channelCommand(h, channel)).toBe('Here the bot answers every message, not only mentions.');
  });

  test('only admins set the mode; anyone may see it', async () => {
    const channel = h.fake.addChannel(h.guild, 'members-only');
    expect(await channelCommand(h, channel, h.alice, 'all')).toBe('Only admins can use /channel here.');
    expect(await channelCommand(h, channel, h.alice)).toBe(
      'Here the bot answers only when mentioned or replied to.',
    );
    const before = h.sim.chatRequests().length;
    h.fake.say({ author: h.alice, channelId: channel.id, content: 'not for the bot' });
    await sentinel(channel);
    expect(h.sim.chatRequests().length).toBe(before + 1);
  });
});

describe('without the Message Content intent', () => {
  test('setting mode all says the bot cannot read those messages yet, and only mentions are answered', async () => {
    const b = await harnesses.withoutIntent();
    const channel = b.fake.addChannel(b.guild, 'blind');
    const reply = await channelCommand(b, channel, b.mod, 'all');
    expect(reply).toContain('From now on, here the bot answers every message, not only mentions.');
    expect(reply).toContain('⚠️ The bot cannot read messages that do not mention it yet');
    expect(reply).toContain('discord.messageContentIntent: true');
    b.fake.say({ author: b.alice, channelId: channel.id, content: 'unreadable without the intent' });
    b.sim.script({ text: 'Mentions still work.' });
    const turn = b.expectTurns(1);
    b.fake.say({ author: b.alice, channelId: channel.id, content: b.mention('hello?') });
    const [outcome] = await turn;
    expect(outcome?.status).toBe('answered');
    expect(answers(b, channel)).toHaveLength(1);
  });
});
