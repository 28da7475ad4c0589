/**
 * With discord.messageContentIntent on, the bot reads every guild message it can see, yet still answers
 * only what is addressed to it: user mentions, replies (pinging or not), DMs, and configured roles.
 * This harness also registers commands globally, as production does.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  // Also the production shape of command registration: global, no guild ids configured.
  h = await startDiscordHarness({
    globalCommands: true,
    config: { discord: { messageContentIntent: true } },
  });
});
afterAll(async () => {
  await h?.close();
});

describe('with the Message Content intent', () => {
  test('the client asks for the intent', () => {
    expect(h.fake.gateway.intents & (1 << 15)).toBe(1 << 15);
  });

  test('@everyone and @here do not address the bot even when their text is visible', async () => {
    const channel = h.fake.addChannel(h.guild, 'broadcasts');
    h.fake.say({ author: h.alice, channelId: channel.id, content: '@everyone the build is red' });
    h.fake.say({ author: h.alice, channelId: channel.id, content: '@here standup now' });
    h.sim.script({ text: 'Here.' });
    const turn = h.expectTurns(1);
    const addressed = h.fake.say({ author: h.bob, channelId: channel.id, content: h.mention('status?') });
    await turn;
    const prompt = JSON.stringify(h.sim.chatRequests().at(-1)?.messages);
    expect(prompt).not.toContain('build is red');
    expect(prompt).not.toContain('standup now');
    expect(h.fake.botMessages(channel.id).map((m) => m.message_reference?.message_id)).toEqual([
      addressed.id,
    ]);
  });

  test('without guild ids, commands are registered globally in one bulk overwrite', () => {
    const puts = h.fake.requests().filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.route)).toEqual(['PUT /applications/:id/commands']);
    // The slash commands and the two message context-menu commands (Apps → Translate, Summarize thread).
    expect(h.fake.state.globalCommands.map((c) => c.name).sort()).toEqual(
      [...h.app.service.commands().map((c) => c.name), 'Summarize thread', 'Translate'].sort(),
    );
    expect(h.fake.state.guildCommands.size).toBe(0);
  });

  test('a role mention addresses the bot only when that role is configured', async () => {
    const channel = h.fake.addChannel(h.guild, 'roles');
    const role = `<@&${h.guild.adminRoleId}>`;
    h.fake.say({ author: h.alice, channelId: channel.id, content: `${role} first question` });
    // Messages are handled in order: once this mention is answered, the role mention was passed over.
    h.sim.script({ text: 'Sentinel answer.' });
    let turn = h.expectTurns(1);
    const sentinel = h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('sentinel') });
    await turn;
    expect(JSON.stringify(h.sim.chatRequests().at(-1)?.messages)).not.toContain('first question');
    h.config.discord.mentionRoleIds.push(h.guild.adminRoleId);
    try {
      h.sim.script({ text: 'Answering the role.' });
      turn = h.expectTurns(1);
      const second = h.fake.say({
        author: h.alice,
        channelId: channel.id,
        content: `${role} second question`,
      });
      await turn;
      const prompt = JSON.stringify(h.sim.chatRequests().at(-1)?.messages);
      expect(prompt).toContain('second question');
      expect(prompt).not.toContain(role);
      const repliedTo = h.fake.botMessages(channel.id).map((m) => m.message_reference?.message_id);
      expect(repliedTo).toEqual([sentinel.id, second.id]);
    } finally {
      h.config.discord.mentionRoleIds.length = 0;
    }
  });

  test('a reply that does not ping the bot is answered', async () => {
    const channel = h.fake.addChannel(h.guild, 'replies');
    h.sim.script({ text: 'First answer.' });
    let turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('first') });
    await turn;
    const botReply = h.fake.botMessages(channel.id)[0];
    h.sim.script({ text: 'Quiet answer.' });
    turn = h.expectTurns(1);
    const quiet = h.fake.say({
      author: h.alice,
      channelId: channel.id,
      content: 'quiet follow-up',
      replyTo: botReply?.id,
      pingReply: false,
    });
    await turn;
    expect(JSON.stringify(h.sim.chatRequests().at(-1)?.messages)).toContain('quiet follow-up');
    expect(h.fake.botMessages(channel.id).at(-1)?.message_reference?.message_id).toBe(quiet.id);
  });

  // Last in this file: it pauses the adapter.
  test('once shutdown begins, addressed messages get the restart line; the own disconnect is not a lost connection', async () => {
    expect(h.discord.isReady()).toBe(true);
    h.discord.pause();
    const channel = h.fake.addChannel(h.guild, 'late');
    const before = h.sim.chatRequests().length;
    h.fake.say({ author: h.bob, channelId: channel.id, content: 'just chatting, not to the bot' });
    const asked = h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('anyone?') });
    const reply = await h.fake.waitFor(
      () => h.fake.botMessages(channel.id).find((m) => m.message_reference?.message_id === asked.id),
      5000,
      'the restart line',
    );
    expect(reply.content).toBe('⚠️ The bot is restarting; please ask again in a minute.');
    expect(h.fake.botMessages(channel.id)).toHaveLength(1);
    expect(h.sim.chatRequests().length).toBe(before);
    const linesBeforeStop = h.logs.lines.length;
    await h.settle(h.discord.stop(), 'the adapter to stop');
    expect(h.discord.isReady()).toBe(false);
    const logged = h.logs.lines.slice(linesBeforeStop).map((l) => JSON.parse(l) as { msg: string });
    expect(logged.map((r) => r.msg)).not.toContain('discord gateway connection lost; reconnecting');
    expect(logged.map((r) => r.msg)).not.toContain('discord gateway disconnected');
  });
});
