/**
 * Messages in a server channel, end to end: fake Discord ⇄ real discord.js ⇄ adapter ⇄ ConversationService
 * ⇄ openai SDK ⇄ DashScope simulator. Assertions are about what the channel shows.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fencesBalanced } from '../../src/core/split.ts';
import { feedbackButtons } from '../support/fake-discord/components.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness();
});
afterAll(async () => {
  await h?.close();
});

const NO_PINGS = { parse: [], replied_user: false };

function words(n: number, seed: string): string {
  return Array.from({ length: n }, (_, i) => `${seed}${i}`).join(' ');
}

describe('a mention in a server channel', () => {
  test('shows typing, replies to the message, streams with paced edits, ends with exactly the answer', async () => {
    const answer = `Here is a streamed answer. ${words(50, 'w')}.`;
    h.sim.script({ text: answer, chunkChars: 10, chunkDelayMs: 100 });
    const turn = h.expectTurns(1);
    const asked = h.fake.say({
      author: h.alice,
      channelId: h.general.id,
      content: h.mention('tell me something'),
    });
    const [outcome] = await turn;
    expect(outcome?.status).toBe('answered');

    // The prompt carried the question without the bot's mention.
    const prompt = JSON.stringify(h.sim.chatRequests().at(-1)?.messages);
    expect(prompt).toContain('tell me something');
    expect(prompt).not.toContain(`<@${h.fake.bot.id}>`);

    const replies = h.fake.botMessages(h.general.id);
    expect(replies).toHaveLength(1);
    const reply = replies[0];
    if (!reply) throw new Error('no reply');
    expect(reply.message_reference?.message_id).toBe(asked.id);
    expect(reply.content).toBe(answer);
    // The Stop button is gone once the answer is complete: 👍 / 👎 took its place.
    expect(reply.components).toEqual(feedbackButtons());

    // Typing was shown before the first message appeared.
    const routes = h.fake.requests().map((r) => r.route);
    const typingAt = routes.indexOf('POST /channels/:id/typing');
    const postAt = routes.indexOf('POST /channels/:id/messages');
    expect(typingAt).toBeGreaterThanOrEqual(0);
    expect(typingAt).toBeLessThan(postAt);

    // Several edits while streaming, each at least ~1 s after the previous one (the final edit, which
    // removes the Stop button, goes out as soon as the answer is complete); Stop was on the message.
    const edits = h.editsOf(h.general.id, reply.id);
    expect(edits.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < edits.length - 1; i++) {
      expect((edits[i]?.at ?? 0) - (edits[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    }
    // The final edit swaps the Stop row for 👍 / 👎.
    expect(edits.at(-1)?.body?.components).toEqual(feedbackButtons());
    const post = h.fake.requests('POST /channels/:id/messages').at(-1);
    expect(JSON.stringify(post?.body?.components)).toContain('qwenbot:stop');
    // The message grew over time: intermediate states are prefixes of the final answer.
    expect(reply.history.length).toBeGreaterThanOrEqual(3);
    for (const state of reply.history) expect(answer.startsWith(state)).toBe(true);
    expect(h.fake.rateLimited).toBe(0);
  });

  test('@everyone or @here without a user mention is ignored', async () => {
    const channel = h.fake.addChannel(h.guild, 'lunch');
    const before = h.sim.chatRequests().length;
    h.fake.say({ author: h.alice, channelId: channel.id, content: '@everyone lunch time?' });
    h.fake.say({ author: h.bob, channelId: channel.id, content: '@here anyone around?' });
    // A third, addressed message proves the first two were seen and passed over, not still queued.
    h.sim.script({ text: 'Yes, I am here.' });
    const turn = h.expectTurns(1);
    const addressed = h.fake.say({
      author: h.bob,
      channelId: channel.id,
      content: h.mention('are you there?'),
    });
    await turn;
    expect(h.sim.chatRequests().length).toBe(before + 1);
    expect(JSON.stringify(h.sim.chatRequests().at(-1)?.messages)).not.toContain('lunch time');
    const replies = h.fake.botMessages(channel.id);
    expect(replies.map((m) => m.message_reference?.message_id)).toEqual([addressed.id]);
  });

  test('replying to one of its messages continues the conversation without a mention', async () => {
    h.sim.script({ text: 'The capital of France is Paris.' });
    let turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: h.random.id, content: h.mention('capital of France?') });
    await turn;
    const botReply = h.fake.botMessages(h.random.id).at(-1);
    if (!botReply) throw new Error('no reply');

    h.sim.script({ text: 'About 2.1 million people live in Paris.' });
    turn = h.expectTurns(1);
    const followUp = h.fake.say({
      author: h.alice,
      channelId: h.random.id,
      content: 'and how many people live there?',
      replyTo: botReply.id,
    });
    const [outcome] = await turn;
    expect(outcome?.status).toBe('answered');
    const messages = h.sim.chatRequests().at(-1)?.messages ?? [];
    const prompt = JSON.stringify(messages);
    expect(prompt).toContain('capital of France?');
    expect(prompt).toContain('The capital of France is Paris.');
    expect(prompt).toContain('how many people live there?');
    const last = h.fake.botMessages(h.random.id).at(-1);
    expect(last?.message_reference?.message_id).toBe(followUp.id);
    expect(last?.content).toBe('About 2.1 million people live in Paris.');
  });

  test('a reply that does not ping the bot carries no content without the intent, and is not answered', async () => {
    const channel = h.fake.addChannel(h.guild, 'quiet-replies');
    h.sim.script({ text: 'First answer.' });
    let turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('first') });
    await turn;
    const botReply = h.fake.botMessages(channel.id)[0];
    const before = h.sim.chatRequests().length;
    h.fake.say({
      author: h.alice,
      channelId: channel.id,
      content: 'quiet follow-up',
      replyTo: botReply?.id,
      pingReply: false,
    });
    h.sim.script({ text: 'Second answer.' });
    turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('second') });
    await turn;
    expect(h.sim.chatRequests().length).toBe(before + 1);
    expect(h.fake.botMessages(channel.id)).toHaveLength(2);
    expect(h.logs.lines.some((l) => l.includes('arrived without content'))).toBe(true);
  });

  test('other mentions in the question reach the model as display names', async () => {
    h.sim.script({ text: 'Noted.' });
    const channel = h.fake.addChannel(h.guild, 'greetings');
    const turn = h.expectTurns(1);
    h.fake.say({
      author: h.alice,
      channelId: channel.id,
      content: `${h.mention('please greet')} <@${h.bob.id}>`,
    });
    await turn;
    const prompt = JSON.stringify(h.sim.chatRequests().at(-1)?.messages);
    expect(prompt).toContain('please greet @Bobby');
    expect(prompt).not.toContain(`<@${h.bob.id}>`);
  });
});

describe('what the bot sends', () => {
  test('a 5,000-character answer with a code block arrives as three messages, fences balanced, text complete', async () => {
    const code = Array.from(
      { length: 50 },
      (_, i) => `  console.log("line ${i} of the example program");`,
    ).join('\n');
    const answer = `${words(150, 'intro')}\n\n\`\`\`js\nfunction demo() {\n${code}\n}\n\`\`\`\n\n${words(150, 'outro')}`;
    expect(answer.length).toBeGreaterThan(4800);
    expect(answer.length).toBeLessThan(5200);
    h.sim.script({ text: answer, chunkChars: 200, chunkDelayMs: 40 });
    const thread = h.fake.addChannel(h.guild, 'long-answers');
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: thread.id, content: h.mention('write a long answer') });
    const [outcome] = await turn;
    expect(outcome?.status).toBe('answered');
    const parts = h.fake.botMessages(thread.id);
    expect(parts).toHaveLength(3);
    for (const p of parts) {
      expect([...p.content].length).toBeLessThanOrEqual(2000);
      expect(fencesBalanced(p.content)).toBe(true);
      // No Stop button left; 👍 / 👎 on the last message only.
      expect(p.components).toEqual(p === parts.at(-1) ? feedbackButtons() : []);
    }
    // Read together, ignoring the fences added at the cuts, the messages say exactly the answer.
    const strip = (s: string) => s.replace(/^```\w*$/gm, '').replace(/\s+/g, '');
    expect(strip(parts.map((p) => p.content).join('\n'))).toBe(strip(answer));
    // The code block is split across messages but each piece is shown as code.
    expect(parts.filter((p) => p.content.includes('```js')).length).toBeGreaterThanOrEqual(2);
    expect(h.fake.rateLimited).toBe(0);
  });

  test('@everyone, @here and <@id> written by the model ping nobody', async () => {
    const answer = `Sure! @everyone and @here, please welcome <@${h.bob.id}> and <@&${h.guild.adminRoleId}>.`;
    h.sim.script({ text: answer, chunkChars: 8, chunkDelayMs: 60 });
    const channel = h.fake.addChannel(h.guild, 'announcements');
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('announce bob') });
    await turn;
    const reply = h.fake.botMessages(channel.id)[0];
    expect(reply?.content).toBe(answer);
    expect(reply?.mention_everyone).toBe(false);
    expect(reply?.mentions).toEqual([]);
    expect(reply?.mention_roles).toEqual([]);
    const sent = h.fake
      .requests()
      .filter((r) => r.path.startsWith(`/channels/${channel.id}/messages`) && r.method !== 'GET');
    expect(sent.length).toBeGreaterThanOrEqual(2);
    for (const r of sent) expect(r.body?.allowed_mentions).toEqual(NO_PINGS);
  });

  test('a 429 on an edit is waited out and the final content is still complete', async () => {
    const answer = `After the rate limit: ${words(40, 'r')}. The end.`;
    h.sim.script({ text: answer, chunkChars: 10, chunkDelayMs: 80 });
    h.fake.forceRateLimit('PATCH', '/channels/:id/messages/:id', 2, 0.4);
    const channel = h.fake.addChannel(h.guild, 'limited');
    const limitedBefore = h.fake.rateLimited;
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('go') });
    const [outcome] = await turn;
    expect(outcome?.status).toBe('answered');
    expect(h.fake.rateLimited - limitedBefore).toBe(2);
    const reply = h.fake.botMessages(channel.id)[0];
    expect(reply?.content).toBe(answer);
    expect(reply?.components).toEqual(feedbackButtons());
  });

  test('a model error mid-stream leaves the partial text and the error line', async () => {
    const text =
      'This answer will break off somewhere in the middle of the sentence because the server fails.';
    h.sim.script({
      text,
      chunkChars: 10,
      chunkDelayMs: 60,
      errorAfterChunks: 4,
      errorFrame: {
        code: 'internal_error',
        message: 'An internal error has occured, please try again later.',
      },
    });
    const channel = h.fake.addChannel(h.guild, 'errors');
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('try') });
    const [outcome] = await turn;
    expect(outcome?.status).toBe('error');
    const reply = h.fake.botMessages(channel.id)[0];
    // Four chunks of ten characters were streamed before the failure; they stay, followed by the line.
    expect(reply?.content).toBe(
      `${text.slice(0, 40)}\n\n⚠️ The model service had a problem. Please try again.`,
    );
    expect(reply?.components).toEqual([]);
  });
});
