import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness();
});
afterAll(async () => {
  await h?.close();
});

test('smoke', async () => {
  h.sim.script({ text: 'Hello there, this is a streamed answer from the model.', chunkChars: 5, chunkDelayMs: 100 });
  h.fake.say({ author: h.alice, channelId: h.general.id, content: h.mention('hi') });
  const [o] = await h.turns(1);
  console.log(o, h.fake.transcript(h.general.id), h.fake.botMessages(h.general.id).map((m) => [m.edits, m.history]));
  console.log(h.fake.requests().map((r) => `${r.route} ${r.status}`));
  expect(o?.status).toBe('answered');
});
