/**
 * 👍 / 👎 on Discord, end to end through discord.js and the fake Discord: the buttons a finished
 * answer shows, what a press stores and who sees the acknowledgement, changing a vote, the 👎 reason
 * modal, admins' /usage, /forget, and the Prometheus counter.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FeedbackService } from '../../src/core/feedback.ts';
import type { ConversationRef } from '../../src/core/types.ts';
import { listKeys } from '../../src/store/keys.ts';
import { SIM_MODERATION_REFUSAL } from '../support/dashscope-sim.ts';
import type { FakeChannel, FakeInteraction, FakeMessage, FakeUser } from '../support/fake-discord/index.ts';
import { until } from '../support/fake-time.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness();
});
afterAll(async () => {
  await h?.close();
});

interface Button {
  custom_id: string;
  emoji?: { name: string };
  style: number;
}

function buttons(m: FakeMessage | undefined): Button[] {
  return ((m?.components ?? []) as Array<{ components: Button[] }>).flatMap((row) => row.components);
}

async function ask(channel: FakeChannel, text: string, answer = 'A fine answer.'): Promise<FakeMessage> {
  h.sim.script({ text: answer });
  const turn = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention(text) });
  await turn;
  const last = h.fake
    .botMessages(channel.id)
    .filter((m) => !m.interactionId)
    .at(-1);
  if (!last) throw new Error('no answer');
  return last;
}

/** Waits until the bot answered the interaction (and filled in a deferred reply). */
async function answered(it: FakeInteraction): Promise<FakeInteraction> {
  await h.fake.waitFor(
    () => {
      if (it.callbackType === undefined) return false;
      if (it.callbackType !== 5) return true;
      return (h.fake.state.findMessage(it.originalId ?? '')?.edits ?? 0) > 0;
    },
    10_000,
    `interaction ${it.id}`,
  );
  return it;
}

const replyText = (it: FakeInteraction) => h.fake.state.findMessage(it.originalId ?? '')?.content ?? '';

function press(user: FakeUser, answer: FakeMessage, emoji: '👍' | '👎'): FakeInteraction {
  const button = buttons(answer).find((b) => b.emoji?.name === emoji);
  if (!button) throw new Error(`no ${emoji} button on the answer`);
  return h.fake.clickButton({
    user,
    channelId: answer.channel_id,
    messageId: answer.id,
    customId: button.custom_id,
  });
}

const ref = (channel: FakeChannel): ConversationRef => ({
  platform: 'discord',
  workspace: h.guild.id,
  channel: channel.id,
  isDM: false,
});

async function metric(vote: 'up' | 'down'): Promise<number> {
  const text = await h.app.metrics.registry.metrics();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`qwenbot_feedback_total{platform="discord",model="qwen-plus",vote="${vote}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function usage(user: FakeUser, channel: FakeChannel): Promise<string> {
  const it = await answered(h.fake.slash({ user, channelId: channel.id, name: 'usage' }));
  return replyText(it);
}

describe('feedback buttons on Discord', () => {
  test('a finished answer ends with 👍 / 👎 where the Stop button was; a failed answer gets none', async () => {
    const channel = h.fake.addChannel(h.guild, 'fb-buttons');
    const answer = await ask(channel, 'hello');
    expect(answer.content).toBe('A fine answer.');
    expect(buttons(answer).map((b) => b.emoji?.name)).toEqual(['👍', '👎']);
    expect(buttons(answer).map((b) => b.custom_id)).toEqual([
      'qwenbot:fb:up:qwen-plus',
      'qwenbot:fb:down:qwen-plus',
    ]);

    h.sim.script({
      error: SIM_MODERATION_REFUSAL,
    });
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('something refused') });
    await turn;
    const failed = h.fake.botMessages(channel.id).at(-1);
    expect(failed?.content).toContain('declined');
    expect(failed?.components).toEqual([]);
  });

  test('a long answer carries the buttons on its last message only', async () => {
    const channel = h.fake.addChannel(h.guild, 'fb-long');
    const long = Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ');
    await ask(channel, 'say a lot', long);
    const messages = h.fake.botMessages(channel.id);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.slice(0, -1).every((m) => m.components.length === 0)).toBe(true);
    expect(buttons(messages.at(-1)).map((b) => b.emoji?.name)).toEqual(['👍', '👎']);
  });

  test('a press is stored and acknowledged privately; pressing again changes the one vote; 👎 asks why', async () => {
    const channel = h.fake.addChannel(h.guild, 'fb-votes');
    const answer = await ask(channel, 'rate me');
    const upBefore = await metric('up');
    const downBefore = await metric('down');

    const up = await answered(press(h.alice, answer, '👍'));
    expect(up.ephemeral).toBe(true);
    expect(replyText(up)).toBe('Thanks for the 👍 — noted (only you see this).');
    const feedback = h.app.service.feedback;
    expect(await feedback.get(ref(channel), answer.id, h.alice.id)).toMatchObject({
      conversation: `discord:${h.guild.id}:${channel.id}`,
      answerId: answer.id,
      model: 'qwen-plus',
      vote: 'up',
      voterId: h.alice.id,
    });
    expect(await metric('up')).toBe(upBefore + 1);
    // Nobody else sees the acknowledgement: the channel holds the answer only.
    expect(h.fake.transcript(channel.id).filter((l) => l.includes('Thanks'))).toEqual([
      expect.stringContaining('Thanks for the 👍'),
    ]);
    expect(h.fake.state.findMessage(up.originalId ?? '')?.flags).toBe(64);

    // Pressing 👍 again changes nothing and counts nothing.
    await answered(press(h.alice, answer, '👍'));
    expect(await metric('up')).toBe(upBefore + 1);

    const down = await answered(press(h.alice, answer, '👎'));
    expect(down.callbackType).toBe(9);
    expect(down.modal).toMatchObject({ title: 'What went wrong?' });
    await until(
      async () => (await feedback.get(ref(channel), answer.id, h.alice.id))?.vote === 'down',
      'the 👎 stored',
    );
    const prefix = FeedbackService.voteKey(`discord:${h.guild.id}:${channel.id}`, answer.id, '');
    expect(await listKeys(h.app.store, prefix)).toHaveLength(1);
    // Counted once the vote's write is through (the modal went out first).
    await until(async () => (await metric('down')) === downBefore + 1, 'the 👎 counted');

    const sent = await answered(
      h.fake.submitModal(down, {
        user: h.alice,
        channelId: channel.id,
        values: { reason: 'It got the date wrong.' },
      }),
    );
    expect(sent.ephemeral).toBe(true);
    expect(replyText(sent)).toBe('Thanks — your 👎 and its reason are noted.');
    expect(await feedback.get(ref(channel), answer.id, h.alice.id)).toMatchObject({
      vote: 'down',
      reason: 'It got the date wrong.',
    });
    expect(await metric('down')).toBe(downBefore + 1);
  });

  test('in a DM too: the press is stored with the DM conversation', async () => {
    h.sim.script({ text: 'A private answer.' });
    const turn = h.expectTurns(1);
    const asked = h.fake.dm(h.bob, 'hello in private');
    await turn;
    const answer = h.fake.botMessages(asked.channel_id).at(-1);
    if (!answer) throw new Error('no answer');
    expect(buttons(answer).map((b) => b.emoji?.name)).toEqual(['👍', '👎']);
    const it = await answered(press(h.bob, answer, '👍'));
    expect(replyText(it)).toBe('Thanks for the 👍 — noted (only you see this).');
    const dm: ConversationRef = {
      platform: 'discord',
      workspace: 'dm',
      channel: asked.channel_id,
      isDM: true,
    };
    expect(await h.app.service.feedback.get(dm, answer.id, h.bob.id)).toMatchObject({
      conversation: `discord:dm:${asked.channel_id}`,
      vote: 'up',
    });
  });

  test('admins see the share of 👍 per model in /usage; /forget removes the person’s votes', async () => {
    const channel = h.fake.addChannel(h.guild, 'fb-usage');
    const first = await ask(channel, 'one');
    const second = await ask(channel, 'two');
    await answered(press(h.bob, first, '👍'));
    await answered(press(h.bob, second, '👍'));
    await answered(press(h.alice, second, '👍'));
    // Earlier tests in this file left Alice's 👎 on one answer; the workspace counts every vote.
    const before = await usage(h.mod, channel);
    expect(before).toContain('**Feedback (last 30 days, whole workspace)**');
    expect(before).toMatch(/• qwen-plus: \d+% 👍 \(\d+ of \d+\)/);
    expect(await usage(h.alice, channel)).not.toContain('Feedback');

    const shares = await h.app.service.feedback.shares('discord', h.guild.id);
    const plus = shares.find((s) => s.model === 'qwen-plus');
    const { up = 0, down = 0 } = plus ?? {};
    expect(before).toContain(
      `• qwen-plus: ${Math.round((100 * up) / (up + down))}% 👍 (${up} of ${up + down})`,
    );

    const forget = await answered(
      h.fake.slash({ user: h.alice, channelId: channel.id, name: 'forget', options: { confirm: 'confirm' } }),
    );
    expect(replyText(forget)).toMatch(/Also deleted [1-9]\d* feedback vote\(s\) you gave\./);
    expect(await h.app.service.feedback.get(ref(channel), second.id, h.alice.id)).toBeUndefined();
    expect(await h.app.service.feedback.get(ref(channel), second.id, h.bob.id)).toMatchObject({ vote: 'up' });
    // Only Bob's votes are left: two 👍.
    expect(await usage(h.mod, channel)).toContain('• qwen-plus: 100% 👍 (2 of 2)');
  });
});
