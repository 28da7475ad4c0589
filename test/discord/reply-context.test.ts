/**
 * Replying to someone else's message while mentioning the bot brings that message into the turn: its
 * text as a quote ("<author> wrote: …") and its images, in the prompt and in the stored history.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tinyPng } from '../support/tiny-png.ts';
import type { DiscordHarness } from './harness.ts';
import { intentPair } from './intent-pair.ts';

const harnesses = intentPair();
let h: DiscordHarness;
beforeAll(async () => {
  h = await harnesses.withIntent();
});
afterAll(() => harnesses.close());

type Part = { type: string; text?: string; image_url?: { url: string } };
const lastUser = (on: DiscordHarness) =>
  on.sim
    .chatRequests()
    .at(-1)
    ?.messages.filter((m) => m.role === 'user')
    .at(-1);

describe('a reply to someone else’s message, mentioning the bot', () => {
  test('brings its text and image into the prompt and the history, without pinging anyone', async () => {
    const channel = h.fake.addChannel(h.guild, 'incidents');
    const png = tinyPng(16, 16);
    const file = h.fake.addFile('graph.png', png, 'image/png');
    const report = h.fake.say({
      author: h.bob,
      channelId: channel.id,
      content: 'the deploy failed with OOM\n@everyone look',
      attachments: [file],
    });
    h.sim.script({ text: 'Raise the memory limit.' });
    const turn = h.expectTurns(1);
    const asked = h.fake.say({
      author: h.alice,
      channelId: channel.id,
      content: h.mention('what do you think of this?'),
      replyTo: report.id,
    });
    const [outcome] = await turn;
    expect(outcome?.status).toBe('answered');

    const parts = lastUser(h)?.content as Part[];
    const text = parts.find((p) => p.type === 'text')?.text ?? '';
    expect(text).toContain('Bobby wrote:\n> the deploy failed with OOM\n> @everyone look');
    expect(text).toContain('what do you think of this?');
    expect(text.indexOf('Bobby wrote:')).toBeLessThan(text.indexOf('what do you think of this?'));
    const image = parts.find((p) => p.type === 'image_url');
    expect(image?.image_url?.url).toBe(`data:image/png;base64,${Buffer.from(png).toString('base64')}`);

    const turns = await h.app.service.history.load(`discord:${h.guild.id}:${channel.id}`);
    expect(turns[0]).toMatchObject({
      role: 'user',
      author: 'Alice',
      text: 'Bobby wrote:\n> the deploy failed with OOM\n> @everyone look\n\nwhat do you think of this?',
      images: 1,
    });

    // The answer replies to Alice's message and pings nobody (not Bob, not @everyone).
    const reply = h.fake.botMessages(channel.id).at(-1);
    expect(reply?.message_reference?.message_id).toBe(asked.id);
    const post = h.fake.requests('POST /channels/:id/messages').at(-1);
    expect(post?.body?.allowed_mentions).toEqual({ parse: [], replied_user: false });
  });

  test('a reply to the bot’s own message continues the conversation without quoting it', async () => {
    const channel = h.fake.addChannel(h.guild, 'follow-up');
    h.sim.script({ text: 'Paris is the capital.' });
    let turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('capital of France?') });
    await turn;
    const answer = h.fake.botMessages(channel.id).at(-1);
    h.sim.script({ text: 'About two million.' });
    turn = h.expectTurns(1);
    h.fake.say({
      author: h.alice,
      channelId: channel.id,
      content: h.mention('how many people live there?'),
      replyTo: answer?.id,
    });
    await turn;
    const prompt = JSON.stringify(h.sim.chatRequests().at(-1)?.messages);
    expect(prompt).not.toContain('wrote:');
    const turns = await h.app.service.history.load(`discord:${h.guild.id}:${channel.id}`);
    expect(turns.map((t) => t.text)).toEqual([
      'capital of France?',
      'Paris is the capital.',
      'how many people live there?',
      'About two million.',
    ]);
  });
});

describe('without the Message Content intent', () => {
  test('the answer says the message replied to could not be read', async () => {
    const b = await harnesses.withoutIntent();
    const report = b.fake.say({ author: b.bob, channelId: b.general.id, content: 'secret plans' });
    b.sim.script({ text: 'I can only see your question.' });
    const turn = b.expectTurns(1);
    b.fake.say({
      author: b.alice,
      channelId: b.general.id,
      content: b.mention('thoughts?'),
      replyTo: report.id,
    });
    await turn;
    expect(JSON.stringify(b.sim.chatRequests().at(-1)?.messages)).not.toContain('secret plans');
    const reply = b.fake.botMessages(b.general.id).at(-1);
    expect(reply?.content).toBe(
      'I can only see your question.\n\n(I could not read the message you replied to: that needs the Message Content intent, which is off.)',
    );
  });
});
