/**
 * A moderation refusal in a Discord channel, through discord.js and the DashScope simulator (which
 * refuses when any message of the request carries the trigger): the next person is still answered.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lastUserText, SIM_INPUT_TRIGGER } from '../support/dashscope-sim.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness({ sim: { responder: (body) => `You said: ${lastUserText(body)}` } });
});
afterAll(async () => {
  await h?.close();
});

test('after one flagged message, a clean question from someone else in the channel is answered', async () => {
  const channel = h.fake.addChannel(h.guild, 'general');
  let turn = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention(`look: ${SIM_INPUT_TRIGGER}`) });
  const [refused] = await turn;
  expect(refused?.status).toBe('error');
  expect(h.fake.botMessages(channel.id)[0]?.content).toBe(
    '⚠️ The provider declined this request (content moderation).',
  );

  turn = h.expectTurns(1);
  h.fake.say({ author: h.bob, channelId: channel.id, content: h.mention('is the build green?') });
  const [answered] = await turn;
  expect(answered?.status).toBe('answered');
  expect(h.fake.botMessages(channel.id)[1]?.content).toContain('is the build green?');
  const sent = JSON.stringify(h.sim.chatRequests().at(-1)?.messages);
  expect(sent).not.toContain(SIM_INPUT_TRIGGER);
  expect(sent).not.toContain('look:');
});
