/**
 * Back-to-back messages from one person in one conversation become one turn and one answer (the
 * `triggers.debounceMs` window), end to end through discord.js; other people are not held up by it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness({ config: { triggers: { debounceMs: 1500 } } });
});
afterAll(async () => {
  await h?.close();
});

const wait = (ms: number) => h.settle(new Promise((r) => setTimeout(r, ms)), `${ms} ms to pass`);
const userTexts = (i: number) =>
  (h.sim.chatRequests()[i]?.messages ?? [])
    .filter((m) => m.role === 'user')
    .map((m) => JSON.stringify(m.content));

describe('two quick messages', () => {
  test('get one answer whose prompt has both texts in order; a message after the window gets its own', async () => {
    const channel = h.fake.addChannel(h.guild, 'quick');
    const before = h.sim.chatRequests().length;
    h.sim.script({ text: 'One answer for both.' }, { text: 'The second answer.' });
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('my build fails') });
    await wait(600);
    const second = h.fake.say({
      author: h.alice,
      channelId: channel.id,
      content: h.mention('with exit code 137'),
    });
    await h.fake.waitFor(
      () => h.fake.botMessages(channel.id).find((m) => m.content === 'One answer for both.'),
      20_000,
      'the first answer',
    );
    await wait(3000);
    expect(h.fake.botMessages(channel.id)).toHaveLength(1);
    expect(h.sim.chatRequests().length).toBe(before + 1);
    // One reply, to the last of the two messages.
    expect(h.fake.botMessages(channel.id)[0]?.message_reference?.message_id).toBe(second.id);
    const asked = userTexts(before).join('\n');
    expect(asked).toMatch(/my build fails[\s\S]*with exit code 137/);

    const thirdDone = h.expectTurns(1);
    const third = h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('fixed, thanks') });
    await h.fake.waitFor(
      () => h.fake.botMessages(channel.id).find((m) => m.content === 'The second answer.'),
      20_000,
      'the second answer',
    );
    expect(h.fake.botMessages(channel.id).map((m) => m.message_reference?.message_id)).toEqual([
      second.id,
      third.id,
    ]);
    expect(userTexts(before + 1).at(-1)).toContain('fixed, thanks');
    await thirdDone;
    // History: one user turn for the two messages, its answer, then the third and its answer.
    const turns = await h.app.service.history.load(`discord:${h.guild.id}:${channel.id}`);
    expect(turns.map((t) => [t.role, t.text])).toEqual([
      ['user', 'my build fails\nwith exit code 137'],
      ['assistant', 'One answer for both.'],
      ['user', 'fixed, thanks'],
      ['assistant', 'The second answer.'],
    ]);
  });

  test('another person’s message in the window is answered on its own, in arrival order', async () => {
    const channel = h.fake.addChannel(h.guild, 'two-people');
    h.sim.setResponder((body) => {
      const last = body.messages.filter((m) => m.role === 'user').at(-1);
      return `answer to ${JSON.stringify(last?.content).includes('bob asks') ? 'bob' : 'alice'}`;
    });
    {
      h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('alice asks') });
      await wait(200);
      h.fake.say({ author: h.bob, channelId: channel.id, content: h.mention('bob asks') });
      await wait(200);
      h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('alice adds') });
      await h.fake.waitFor(() => h.fake.botMessages(channel.id).length >= 2, 20_000, 'two answers');
      await wait(3000);
      expect(
        h.fake
          .botMessages(channel.id)
          .map((m) => m.content)
          .sort(),
      ).toEqual(['answer to alice', 'answer to bob']);
      const turns = await h.app.service.history.load(`discord:${h.guild.id}:${channel.id}`);
      const questions = turns.filter((t) => t.role === 'user').map((t) => `${t.author}: ${t.text}`);
      expect(questions).toEqual(['Alice: alice asks\nalice adds', 'Bobby: bob asks']);
    }
  });
});
