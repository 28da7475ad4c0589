/**
 * DashScope's explicit context cache through the real discord.js client: a conversation on qwen-plus
 * re-reads its prefix at the cached price, and /usage shows the cached tokens and the saving.
 */
import { afterEach, expect, test } from 'vitest';
import { expectedTodayLine, LONG_SYSTEM_PROMPT } from '../support/cache-usage.ts';
import type { FakeInteraction } from '../support/fake-discord/index.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function answered(harness: DiscordHarness, it: FakeInteraction): Promise<string> {
  await harness.fake.waitFor(
    () => {
      const original = it.originalId ? harness.fake.state.findMessage(it.originalId) : undefined;
      return it.callbackType !== undefined && (it.callbackType !== 5 || (original?.edits ?? 0) > 0);
    },
    10_000,
    `interaction ${it.id}`,
  );
  return (it.originalId && harness.fake.state.findMessage(it.originalId)?.content) || '';
}

test('/usage shows the cached tokens of a conversation and what the cache saved', async () => {
  h = await startDiscordHarness({
    config: { systemPrompt: LONG_SYSTEM_PROMPT },
    sim: { responder: (b) => `Answer ${b.messages.length}: ${'tea '.repeat(60)}` },
  });
  const { fake, general, alice } = h;
  for (let i = 1; i <= 4; i++) {
    const turn = h.expectTurns(1);
    fake.say({ author: alice, channelId: general.id, content: h.mention(`question ${i}`) });
    await turn;
  }
  // What people in the channel see is the answers, nothing about caching.
  expect(fake.botMessages(general.id).map((m) => m.content.slice(0, 10))).toEqual([
    'Answer 2: ',
    'Answer 4: ',
    'Answer 6: ',
    'Answer 8: ',
  ]);
  const history = await h.app.service.history.load(`discord:${h.guild.id}:${general.id}`);
  const expected = expectedTodayLine(history);
  // From the second answer on, the system prompt and older history come from the cache.
  expect(history.filter((t) => t.role === 'assistant').map((t) => (t.usage?.cachedTokens ?? 0) > 0)).toEqual([
    false,
    true,
    true,
    true,
  ]);
  expect(history.find((t) => t.role === 'assistant')?.usage?.cacheCreationTokens).toBeGreaterThan(1024);
  expect(expected.cached / expected.prompt).toBeGreaterThan(0.5);
  expect(JSON.stringify(h.sim.chatRequests()[3]?.messages)).toContain('"cache_control":{"type":"ephemeral"}');

  const it = fake.slash({ user: alice, channelId: general.id, name: 'usage' });
  const shown = await answered(h, it);
  expect(shown).toContain(expected.line);
});
