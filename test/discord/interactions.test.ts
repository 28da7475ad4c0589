/**
 * Slash commands, autocomplete and the Stop button, end to end through the real discord.js client:
 * registration at start-up, deferral within Discord's deadline, answers by editing the deferred reply.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { INVITE_PERMISSIONS } from '../../adapters/discord/index.ts';
import type { FakeInteraction } from '../support/fake-discord/index.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness();
});
afterAll(async () => {
  console.log(
    h.logs.lines
      .filter((l) => /"level":(40|50)/.test(l))
      .join('\n')
      .slice(0, 5000),
  );
  await h?.close();
});

const MESSAGE_CONTENT_INTENT = 1 << 15;

/** Waits until the bot answered the interaction and, when deferred, filled in its reply. */
async function answered(it: FakeInteraction): Promise<FakeInteraction> {
  await h.fake.waitFor(
    () => {
      if (it.callbackType === undefined) return false;
      if (it.callbackType !== 5) return true;
      const original = it.originalId ? h.fake.state.findMessage(it.originalId) : undefined;
      return original?.deleted || (original?.edits ?? 0) > 0;
    },
    10_000,
    `interaction ${it.id}`,
  );
  return it;
}

function replyText(it: FakeInteraction): string {
  const original = it.originalId ? h.fake.state.findMessage(it.originalId) : undefined;
  return original?.content ?? '';
}

describe('start-up', () => {
  test('registers every core command in the configured guild, with autocomplete where the core has it', () => {
    const registered = h.fake.state.guildCommands.get(h.guild.id) ?? [];
    expect(registered.map((c) => c.name).sort()).toEqual(
      [...h.app.service.commands().map((c) => c.name), 'Summarize thread', 'Translate'].sort(),
    );
    expect(h.fake.state.globalCommands).toEqual([]);
    const model = registered.find((c) => c.name === 'model');
    const option = (model?.options as Array<Record<string, unknown>> | undefined)?.[0];
    expect(option).toMatchObject({ name: 'name', type: 3, autocomplete: true, required: false });
    expect(h.discord.ready).toBe(true);
  });

  test('connects without the privileged Message Content intent and logs an invite URL', () => {
    expect(h.fake.gateway.intents & MESSAGE_CONTENT_INTENT).toBe(0);
    expect(h.fake.gateway.intents & 1).toBe(1); // guilds
    expect(h.fake.gateway.intents & (1 << 9)).toBe(1 << 9); // guild messages
    expect(h.fake.gateway.intents & (1 << 12)).toBe(1 << 12); // direct messages
    const line = h.logs.lines.find((l) => l.includes('logged in to Discord'));
    expect(line).toContain(h.fake.bot.username);
    const invite = new URL(h.discord.inviteUrl ?? '');
    expect(invite.searchParams.get('client_id')).toBe(h.fake.state.applicationId);
    expect(invite.searchParams.get('scope')).toBe('bot applications.commands');
    expect(invite.searchParams.get('permissions')).toBe(INVITE_PERMISSIONS.toString());
    expect(line).toContain(h.discord.inviteUrl);
    // No secret in any log line.
    expect(h.logs.lines.join('\n')).not.toContain(h.fake.token);
  });
});

describe('slash commands', () => {
  test('/model autocomplete offers catalogue names matching what is typed', async () => {
    const it = await answered(
      h.fake.autocomplete({
        user: h.alice,
        channelId: h.general.id,
        name: 'model',
        option: 'name',
        value: 'vl',
      }),
    );
    expect(it.callbackType).toBe(8);
    const choices = it.callbackData?.choices as Array<{ name: string; value: string }>;
    const expected = Object.keys(h.config.models).filter((n) => n.includes('vl'));
    expect(choices.map((c) => c.value).sort()).toEqual(expected.sort());
    expect(choices.length).toBeLessThanOrEqual(25);
  });

  test('/model switches this conversation, is deferred in time, and the next answer uses the new model', async () => {
    const channel = h.fake.addChannel(h.guild, 'model-switch');
    const it = await answered(
      h.fake.slash({ user: h.alice, channelId: channel.id, name: 'model', options: { name: 'qwen-max' } }),
    );
    expect(it.callbackType).toBe(5);
    expect((it.callbackAt ?? Infinity) - it.createdAt).toBeLessThan(3000);
    expect(it.ephemeral).toBe(false);
    expect(replyText(it)).toBe('Switched this conversation to **qwen-max**.');

    h.sim.script({ text: 'Answered by the bigger model.' });
    let turn = h.expectTurns(1);
    h.fake.say({ author: h.bob, channelId: channel.id, content: h.mention('which model are you?') });
    await turn;
    expect(h.sim.chatRequests().at(-1)?.model).toBe('qwen-max');

    // Only this conversation switched.
    const other = h.fake.addChannel(h.guild, 'model-default');
    turn = h.expectTurns(1);
    h.fake.say({ author: h.bob, channelId: other.id, content: h.mention('and you?') });
    await turn;
    expect(h.sim.chatRequests().at(-1)?.model).toBe(h.config.qwen.defaultModel);
  });

  test('an unknown model is refused privately', async () => {
    const it = await answered(
      h.fake.slash({ user: h.alice, channelId: h.general.id, name: 'model', options: { name: 'qwen-plsu' } }),
    );
    // Deferred publicly (the command is public), then moved to a private follow-up.
    await h.fake.waitFor(() => it.followUps.length > 0, 5000, 'follow-up');
    const followUp = h.fake.state.findMessage(it.followUps[0] ?? '');
    expect(followUp?.flags && followUp.flags & 64).toBe(64);
    expect(followUp?.content).toContain('Unknown model "qwen-plsu"');
    expect(followUp?.content).toContain('qwen-plus');
    expect(h.fake.state.findMessage(it.originalId ?? '')?.deleted).toBe(true);
  });

  test('/reset forgets the conversation', async () => {
    const channel = h.fake.addChannel(h.guild, 'resettable');
    h.sim.script({ text: 'I will remember BANANA.' });
    let turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('remember BANANA') });
    await turn;
    const it = await answered(h.fake.slash({ user: h.alice, channelId: channel.id, name: 'reset' }));
    expect(replyText(it)).toBe('History cleared for this conversation.');
    h.sim.script({ text: 'Remember what?' });
    turn = h.expectTurns(1);
    h.fake.say({
      author: h.alice,
      channelId: channel.id,
      content: h.mention('what did I ask you to remember?'),
    });
    await turn;
    expect(JSON.stringify(h.sim.chatRequests().at(-1)?.messages)).not.toContain('BANANA');
  });

  test('/help is private and speaks the user’s language', async () => {
    const en = await answered(h.fake.slash({ user: h.alice, channelId: h.general.id, name: 'help' }));
    expect(en.ephemeral).toBe(true);
    expect(en.callbackData?.flags).toBe(64);
    expect(replyText(en)).toContain('Mention me or DM me to chat.');
    expect(replyText(en)).toContain('/model');
    const zh = await answered(
      h.fake.slash({ user: h.bob, channelId: h.general.id, name: 'help', locale: 'zh-CN' }),
    );
    expect(replyText(zh)).toContain('提及我或私信我即可对话');
  });

  test('commands work in DMs and in threads, each on its own conversation', async () => {
    const dm = h.fake.dmChannel(h.alice);
    const inDm = await answered(h.fake.slash({ user: h.alice, channelId: dm.id, name: 'reset' }));
    expect(replyText(inDm)).toBe('History cleared for this conversation.');
    const thread = h.fake.createThread(h.general, 'cmd-thread', h.bob);
    await answered(h.fake.slash({ user: h.bob, channelId: thread.id, name: 'reset' }));
    const [dmInv, threadInv] = h.invocations.slice(-2);
    expect(dmInv?.conversation).toEqual({ platform: 'discord', workspace: 'dm', channel: dm.id, isDM: true });
    expect(threadInv?.conversation).toEqual({
      platform: 'discord',
      workspace: h.guild.id,
      channel: h.general.id,
      thread: thread.id,
      isDM: false,
    });
  });

  test('a channel’s system prompt can be set by a moderator, publicly; others are told they may not', async () => {
    const channel = h.fake.addChannel(h.guild, 'system-prompt');
    const denied = await answered(
      h.fake.slash({
        user: h.alice,
        channelId: channel.id,
        name: 'system',
        options: { text: 'Talk like a pirate.' },
      }),
    );
    expect(denied.ephemeral).toBe(true);
    expect(replyText(denied)).toBe('Only admins can use /system here.');

    const set = h.fake.slash({
      user: h.mod,
      channelId: channel.id,
      name: 'system',
      options: { text: 'Answer in haiku.' },
    });
    await h.fake.waitFor(() => set.followUps.length > 0, 5000, 'public follow-up');
    // Deferred privately (the command usually is), then announced to the channel.
    expect(set.ephemeral).toBe(true);
    expect(h.fake.state.findMessage(set.originalId ?? '')?.deleted).toBe(true);
    const announced = h.fake.state.findMessage(set.followUps[0] ?? '');
    expect(announced?.content).toBe('System prompt updated for this conversation.');
    expect((announced?.flags ?? 0) & 64).toBe(0);

    h.sim.script({ text: 'Autumn moonlight' });
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('hello') });
    await turn;
    const system = h.sim
      .chatRequests()
      .at(-1)
      ?.messages.find((m) => m.role === 'system');
    expect(JSON.stringify(system)).toContain('Answer in haiku.');
  });

  test('Manage Server makes a member an admin; others are not', async () => {
    await answered(h.fake.slash({ user: h.mod, channelId: h.general.id, name: 'help' }));
    await answered(h.fake.slash({ user: h.alice, channelId: h.general.id, name: 'help' }));
    const [modInv, aliceInv] = h.invocations.slice(-2);
    expect(modInv?.author).toMatchObject({ id: h.mod.id, isAdmin: true });
    expect(aliceInv?.author).toMatchObject({ id: h.alice.id, isAdmin: false, name: 'Alice' });
  });
});

describe('the Stop button', () => {
  const slow = (tag: string) => ({
    text: Array.from({ length: 150 }, (_, i) => `${tag}${i}`).join(' '),
    chunkChars: 6,
    chunkDelayMs: 40,
  });

  async function streamingMessage(channelId: string) {
    return h.fake.waitFor(
      () => h.fake.botMessages(channelId).find((m) => m.components.length > 0 && m.content.length > 20),
      10_000,
      'a streaming message with a Stop button',
    );
  }

  function stopId(m: { components: unknown[] }): string {
    const row = m.components[0] as { components: Array<{ custom_id: string }> };
    return row.components[0]?.custom_id ?? '';
  }

  test('only the asker or a moderator can stop; the message keeps the partial answer and says who stopped it', async () => {
    const channel = h.fake.addChannel(h.guild, 'stoppable');
    const script = slow('alpha');
    h.sim.script(script);
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('talk for a while') });
    const streaming = await streamingMessage(channel.id);

    const refused = await answered(
      h.fake.clickButton({
        user: h.bob,
        channelId: channel.id,
        messageId: streaming.id,
        customId: stopId(streaming),
      }),
    );
    expect(refused.callbackType).toBe(4);
    expect(refused.ephemeral).toBe(true);
    expect(replyText(refused)).toContain('cannot be stopped');

    const stop = await answered(
      h.fake.clickButton({
        user: h.alice,
        channelId: channel.id,
        messageId: streaming.id,
        customId: stopId(streaming),
      }),
    );
    expect(stop.callbackType).toBe(6);
    const [outcome] = await turn;
    expect(outcome?.status).toBe('stopped');
    const final = h.fake.botMessages(channel.id).filter((m) => !m.interactionId);
    expect(final).toHaveLength(1);
    const [partial, ending] = (final[0]?.content ?? '').split('\n\n');
    expect(ending).toBe('⏹️ Stopped by Alice.');
    expect(partial && script.text.startsWith(partial)).toBe(true);
    expect(partial?.length).toBeLessThan(script.text.length);
    expect(final[0]?.components).toEqual([]);

    // The partial answer stays in the conversation's history.
    h.sim.script({ text: 'Continuing.' });
    const next = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('go on') });
    await next;
    const assistant =
      h.sim
        .chatRequests()
        .at(-1)
        ?.messages.filter((m) => m.role === 'assistant') ?? [];
    expect(JSON.stringify(assistant)).toContain(partial?.slice(0, 40));
  });

  test('a moderator may stop someone else’s answer', async () => {
    const channel = h.fake.addChannel(h.guild, 'moderated');
    h.sim.script(slow('beta'));
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.bob, channelId: channel.id, content: h.mention('ramble') });
    const streaming = await streamingMessage(channel.id);
    await answered(
      h.fake.clickButton({
        user: h.mod,
        channelId: channel.id,
        messageId: streaming.id,
        customId: stopId(streaming),
      }),
    );
    const [outcome] = await turn;
    expect(outcome?.status).toBe('stopped');
    expect(h.fake.botMessages(channel.id)[0]?.content).toMatch(/\n\n⏹️ Stopped by Moderator\.$/);
  });
});

describe('crash recovery', () => {
  test('the editor rewrites an answer left half-written, in its thread, without the Stop button or pings', async () => {
    const thread = h.fake.createThread(h.general, 'recovering', h.alice);
    h.sim.script({ text: 'An answer that was cut short.', chunkChars: 4, chunkDelayMs: 40 });
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: thread.id, content: h.mention('tell me') });
    await turn;
    const message = h.fake.botMessages(thread.id)[0];
    if (!message) throw new Error('no message');
    message.components = [{ type: 1, components: [] }];
    const conversation = {
      platform: 'discord',
      workspace: h.guild.id,
      channel: h.general.id,
      thread: thread.id,
      isDM: false,
    };
    await h.discord.editor.editMessage(conversation, message.id, 'An answer that\n\n⚠️ interrupted');
    expect(message.content).toBe('An answer that\n\n⚠️ interrupted');
    expect(message.components).toEqual([]);
    expect(h.editsOf(thread.id, message.id).at(-1)?.body?.allowed_mentions).toEqual({
      parse: [],
      replied_user: false,
    });
  });
});
