/**
 * A busy Discord channel, end to end through discord.js and the fake Discord: five people mention the
 * bot at once. Their answers stream side by side within the channel's budget (no 429), each reply
 * answers its own question, and history keeps the order the questions arrived in.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type ChatBody, lastUserText } from '../support/dashscope-sim.ts';
import { feedbackButtons } from '../support/fake-discord/components.ts';
import type { FakeUser } from '../support/fake-discord/index.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

const ASKERS = 5;
let h: DiscordHarness;
const people: FakeUser[] = [];

beforeAll(async () => {
  h = await startDiscordHarness({
    sim: { responder: (body) => `re: ${lastUserText(body)}` },
    prepare: (fake) => {
      const guild = [...fake.state.guilds.values()][0];
      if (!guild) throw new Error('no guild');
      for (let i = 0; i < ASKERS; i++) {
        const user = fake.addUser(`asker${i}`, `Asker${i}`);
        fake.addMember(guild, user);
        people.push(user);
      }
    },
  });
});
afterAll(async () => {
  await h?.close();
});

/** Polls (no sleeping) until the condition holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

const userTurns = (body: ChatBody | undefined) =>
  (body?.messages ?? []).filter((m) => m.role === 'user').map((m) => String(m.content));

test('five askers at once in one channel: answered side by side, in budget, history in arrival order', async () => {
  let open = () => {};
  const allAsked = new Promise<void>((resolve) => {
    open = resolve;
  });
  // Each answer shows its first words, then waits until every question has reached the model.
  for (let i = 0; i < ASKERS; i++) h.sim.script({ holdAfterChunks: 1, hold: allAsked });
  const done = h.expectTurns(ASKERS, 60_000);
  let anyDone = false;
  void done.then(() => (anyDone = true));
  const questions = people.map((author, i) =>
    h.fake.say({ author, channelId: h.general.id, content: h.mention(`question ${i}`) }),
  );
  // One after another, the first answer would end only at the model call's timeout.
  await until(() => h.sim.chatRequests().length === ASKERS || h.outcomes.length > 0);
  expect(h.outcomes).toEqual([]);
  open();
  const outcomes = await done;
  expect(anyDone).toBe(true);

  expect(outcomes.map((o) => o.status)).toEqual(Array(ASKERS).fill('answered'));
  expect(h.fake.rateLimited).toBe(0);
  const replies = h.fake.botMessages(h.general.id);
  questions.forEach((question, i) => {
    const reply = replies.find((m) => m.message_reference?.message_id === question.id);
    expect(reply?.content).toBe(`re: Asker${i}: question ${i}`);
    // The Stop button went with the final edit; 👍 / 👎 came with it.
    expect(reply?.components).toEqual(feedbackButtons());
  });
  // Questions reached the model in arrival order, each prompt holding exactly the questions before it.
  const prompts = [...h.sim.chatRequests()].sort((a, b) => userTurns(a).length - userTurns(b).length);
  prompts.forEach((body, i) => {
    expect(userTurns(body)).toEqual(Array.from({ length: i + 1 }, (_, k) => `Asker${k}: question ${k}`));
  });
  const key = `discord:${h.guild.id}:${h.general.id}`;
  const turns = await h.app.service.history.load(key);
  expect(turns.map((t) => t.text)).toEqual(
    Array.from({ length: ASKERS }, (_, i) => [`question ${i}`, `re: Asker${i}: question ${i}`]).flat(),
  );
});
