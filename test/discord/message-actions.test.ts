/**
 * Apps → "Translate" and "Summarize thread" on a message, end to end through the real discord.js client,
 * the fake Discord and the DashScope simulator: private (ephemeral) replies, what was sent to qwen-mt and
 * to the summary model, usage counted, and the lines for an empty, a too-long or a failed request.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UsageStore } from '../../src/core/usage.ts';
import { SIM_MODERATION_REFUSAL } from '../support/dashscope-sim.ts';
import type { FakeInteraction, FakeMessage, FakeUser } from '../support/fake-discord/index.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  const config = { translate: { maxChars: 200 }, guards: { denyUsers: [] as string[] } };
  h = await startDiscordHarness({
    config,
    prepare: (_fake, people) => config.guards.denyUsers.push(people.mod.id),
  });
});
afterAll(async () => {
  await h?.close();
});

async function reply(it: FakeInteraction): Promise<string> {
  await h.fake.waitFor(
    () => {
      const original = it.originalId ? h.fake.state.findMessage(it.originalId) : undefined;
      return it.callbackType === 5 && (original?.edits ?? 0) > 0;
    },
    10_000,
    `interaction ${it.id}`,
  );
  return h.fake.state.findMessage(it.originalId ?? '')?.content ?? '';
}

/** What a slash command showed: its edited reply, or its follow-up when the visibility changed. */
async function slashReply(it: FakeInteraction): Promise<string> {
  const shown = () => {
    const original = h.fake.state.findMessage(it.originalId ?? '');
    const follow = it.followUps[0] ? h.fake.state.findMessage(it.followUps[0]) : undefined;
    if (follow) return follow.content;
    return original && !original.deleted && original.edits > 0 ? original.content : undefined;
  };
  return h.fake.waitFor(shown, 10_000, `slash ${it.id}`);
}

/** `user` picks Apps → `name` on `message`, in the message's channel. */
function pickApp(name: string, user: FakeUser, message: FakeMessage, locale?: string): FakeInteraction {
  return h.fake.messageCommand({
    user,
    channelId: message.channel_id,
    name,
    messageId: message.id,
    ...(locale ? { locale } : {}),
  });
}

const mtRequests = () => h.sim.chatRequests().filter((b) => b.model.startsWith('qwen-mt-'));

describe('registration', () => {
  test('both message commands are registered with the slash commands, as type 3 without description', () => {
    const registered = h.fake.state.guildCommands.get(h.guild.id) ?? [];
    const menus = registered.filter((c) => c.type === 3).map((c) => c.name);
    expect(menus.sort()).toEqual(['Summarize thread', 'Translate']);
    expect(registered.some((c) => c.name === 'help' && c.type === 1)).toBe(true);
  });
});

describe('Translate', () => {
  test('answers privately with the translation into the user’s Discord locale, sent to qwen-mt as DashScope requires', async () => {
    const before = mtRequests().length;
    const original = h.fake.say({
      author: h.bob,
      channelId: h.general.id,
      content: 'Hello @everyone, lunch?',
    });
    const it = pickApp('Translate', h.alice, original, 'fr');
    const text = await reply(it);
    expect(it.ephemeral).toBe(true);
    expect(text).toBe('🌐 Translated into French:\n[French] Hello @everyone, lunch?');
    // Nothing pinged: the reply carried empty allowed mentions.
    const shown = h.fake.state.findMessage(it.originalId ?? '');
    expect(shown?.mention_everyone).toBe(false);
    const sent = mtRequests().slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.model).toBe('qwen-mt-turbo');
    expect(sent[0]?.messages).toEqual([{ role: 'user', content: 'Hello @everyone, lunch?' }]);
    expect(sent[0]?.translation_options).toEqual({ source_lang: 'auto', target_lang: 'French' });
    // Nothing was posted in the channel for everyone to see besides Bob's message.
    expect(h.fake.botMessages(h.general.id).filter((m) => !m.flags)).toEqual([]);
  });

  test('the model reads names, not mention ids, and the call is counted in the metrics', async () => {
    const before = mtRequests().length;
    const original = h.fake.say({
      author: h.bob,
      channelId: h.general.id,
      content: `thanks <@${h.alice.id}>!`,
    });
    const it = pickApp('Translate', h.alice, original);
    expect(await reply(it)).toMatch(/\[English\] thanks @\S+!$/);
    expect(JSON.stringify(mtRequests()[before]?.messages)).not.toContain(h.alice.id);
    const metrics = await h.app.metrics.registry.metrics();
    expect(metrics).toMatch(
      /qwenbot_message_actions_total\{platform="discord",action="translate",outcome="ok"\} [1-9]/,
    );
    expect(metrics).toMatch(/qwenbot_tokens_total\{model="qwen-mt-turbo",kind="prompt"\} [1-9]/);
  });

  test('someone the access lists refuse gets the refusal line and no model call', async () => {
    const before = mtRequests().length;
    const original = h.fake.say({ author: h.bob, channelId: h.general.id, content: 'hola' });
    const it = pickApp('Translate', h.mod, original);
    expect(await reply(it)).toBe('You cannot use this bot here.');
    expect(mtRequests().length).toBe(before);
  });

  test('/model neither lists nor accepts a translation model', async () => {
    const it = h.fake.slash({
      user: h.alice,
      channelId: h.general.id,
      name: 'model',
      options: { name: 'qwen-mt-turbo' },
    });
    const text = await slashReply(it);
    expect(text).toBe('Unknown model "qwen-mt-turbo". Did you mean: qwen-turbo?');
    const list = await slashReply(h.fake.slash({ user: h.alice, channelId: h.general.id, name: 'model' }));
    expect(list).toContain('qwen-plus');
    expect(list).not.toContain('qwen-mt');
  });

  test('counts in /usage like an answer', async () => {
    const original = h.fake.say({ author: h.bob, channelId: h.random.id, content: 'Guten Morgen' });
    const usage = new UsageStore(h.app.coordinator);
    const scope = { kind: 'user' as const, platform: 'discord', id: h.alice.id };
    const before = (await usage.totals(scope)).today.answers;
    const it = pickApp('Translate', h.alice, original);
    expect(await reply(it)).toContain('[English] Guten Morgen');
    const after = await usage.totals(scope);
    expect(after.today.answers).toBe(before + 1);
    expect(after.today.promptTokens).toBeGreaterThan(0);
  });

  test('a message without text gets a clear line and no model call', async () => {
    const before = mtRequests().length;
    const file = h.fake.addFile('cat.png', new Uint8Array([1, 2, 3]), 'image/png');
    const original = h.fake.say({ author: h.bob, channelId: h.general.id, content: '', attachments: [file] });
    const it = pickApp('Translate', h.alice, original);
    expect(await reply(it)).toBe('There is no text in this message to translate.');
    expect(mtRequests().length).toBe(before);
  });

  test('a message over translate.maxChars gets a clear line and no model call', async () => {
    const before = mtRequests().length;
    const original = h.fake.say({ author: h.bob, channelId: h.general.id, content: 'x'.repeat(250) });
    const it = pickApp('Translate', h.alice, original);
    expect(await reply(it)).toBe('This message is too long to translate (250 characters; at most 200).');
    expect(mtRequests().length).toBe(before);
  });

  test('a model failure leaves a readable line, in Chinese for a zh-CN user', async () => {
    h.sim.script({
      match: (b) => b.model === 'qwen-mt-turbo',
      error: SIM_MODERATION_REFUSAL,
    });
    const original = h.fake.say({ author: h.bob, channelId: h.general.id, content: 'something' });
    const it = pickApp('Translate', h.alice, original, 'zh-CN');
    const text = await reply(it);
    expect(text.startsWith('无法翻译这条消息。')).toBe(true);
    expect(text.length).toBeGreaterThan('无法翻译这条消息。'.length);
    expect(h.logs.lines.some((l) => l.includes('translate failed'))).toBe(true);
  });
});

describe('Summarize thread', () => {
  test('summarizes the thread privately; the prompt holds the thread’s messages by name', async () => {
    const thread = h.fake.createThread(h.general, 'plans', h.alice);
    const answered = h.expectTurns(2);
    h.fake.say({ author: h.alice, channelId: thread.id, content: h.mention('shall we ship on Friday?') });
    const last = h.fake.say({
      author: h.bob,
      channelId: thread.id,
      content: h.mention('yes, after the review'),
    });
    await answered;
    h.sim.script({ match: (b) => b.model === 'qwen-flash', text: '- Ship on Friday after the review.' });
    const before = h.sim.chatRequests().length;
    const it = pickApp('Summarize thread', h.alice, last);
    const text = await reply(it);
    expect(it.ephemeral).toBe(true);
    expect(text).toMatch(/^📝 Summary of the last \d+ messages:\n- Ship on Friday after the review\.$/);
    const sent = h.sim
      .chatRequests()
      .slice(before)
      .find((b) => b.model === 'qwen-flash');
    const prompt = JSON.stringify(sent?.messages);
    expect(prompt).toContain('shall we ship on Friday?');
    expect(prompt).toContain('yes, after the review');
    expect(prompt).toContain(`Bobby: @${h.fake.bot.username} yes, after the review`);
  });

  test('a summary model failure leaves a readable line', async () => {
    const msg = h.fake.say({ author: h.bob, channelId: h.general.id, content: h.mention('status?') });
    h.sim.script({
      match: (b) => b.model === 'qwen-flash',
      error: { status: 400, code: 'Arrearage', message: 'overdue' },
    });
    const it = pickApp('Summarize thread', h.alice, msg);
    const text = await reply(it);
    expect(text).toMatch(/^Could not summarize these messages\. \S/);
    expect(it.ephemeral).toBe(true);
  });

  test('without Read Message History the line says which permission is missing', async () => {
    const channel = h.fake.addChannel(h.guild, 'locked');
    channel.noHistory = true;
    await h.fake.waitFor(() => h.discord.client.channels.cache.has(channel.id), 5000, 'channel cached');
    const msg = h.fake.say({ author: h.bob, channelId: channel.id, content: h.mention('hi') });
    const it = pickApp('Summarize thread', h.alice, msg);
    expect(await reply(it)).toBe(
      'The bot could not read the messages here (it needs the Read Message History permission in this channel).',
    );
  });

  test('without the Message Content intent, other people’s messages are unreadable: says so', async () => {
    const channel = h.fake.addChannel(h.guild, 'quiet');
    await h.fake.waitFor(() => h.discord.client.channels.cache.has(channel.id), 5000, 'channel cached');
    const msg = h.fake.say({ author: h.bob, channelId: channel.id, content: 'plain talk, no mention' });
    const it = pickApp('Summarize thread', h.alice, msg);
    expect(await reply(it)).toBe(
      'The bot could not read the messages here (Discord shows it other people’s messages only with the Message Content intent).',
    );
  });
});
