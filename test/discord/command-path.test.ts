/**
 * Commands through the real discord.js adapter: a slash /reset during an answer waits for it, a typed
 * private command in a channel shows a pointer instead of the private text, guards apply to slash too.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { t } from '../../src/i18n.ts';
import type { FakeInteraction } from '../support/fake-discord/index.ts';
import { until } from '../support/fake-time.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function harness(): DiscordHarness {
  if (!h) throw new Error('no harness');
  return h;
}

/** The deferred reply's text once the bot filled it in. */
async function replyOf(it: FakeInteraction): Promise<string> {
  const { fake } = harness();
  return fake.waitFor(
    () => {
      const original = it.originalId ? fake.state.findMessage(it.originalId) : undefined;
      return original && original.edits > 0 ? original.content : undefined;
    },
    10_000,
    `reply to interaction ${it.id}`,
  );
}

describe('slash commands in the conversation’s turn', () => {
  test('/reset while an answer streams in the channel: the answer finishes, then history is empty', async () => {
    let release: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    h = await startDiscordHarness();
    const { fake, general, alice } = h;
    h.sim.script({
      text: 'Oolong sits between green and black tea.',
      chunkChars: 4,
      holdAfterChunks: 3,
      hold,
    });
    const answered = h.expectTurns(1);
    fake.say({ author: alice, channelId: general.id, content: h.mention('tell me about oolong') });
    await fake.waitFor(() => fake.botMessages(general.id).some((m) => m.content.startsWith('Oolong')));
    const cleared = vi.spyOn(h.app.service.history, 'clear');
    const reset = fake.slash({ user: alice, channelId: general.id, name: 'reset' });
    // The reset does not wait for the answer streaming: it clears at once, and that answer, which
    // finishes in the channel, is not stored afterwards.
    await until(() => cleared.mock.calls.length > 0, 'the reset to clear');
    release();
    expect((await answered)[0]?.status).toBe('answered');
    expect(await replyOf(reset)).toBe(t('en', 'reset.done'));
    expect(await h.app.service.history.load(`discord:${h.guild.id}:${general.id}`)).toEqual([]);
    expect(fake.transcript(general.id).slice(1)).toEqual([
      'qwenbot: Oolong sits between green and black tea.',
      `qwenbot: ${t('en', 'reset.done')}`,
    ]);
  });

  test('a denied user’s slash command gets one private refusal and changes nothing', async () => {
    const config = { guards: { denyUsers: [] as string[] } };
    h = await startDiscordHarness({
      config,
      prepare: (_fake, people) => config.guards.denyUsers.push(people.bob.id),
    });
    const { fake, general, alice, bob } = h;
    const answered = h.expectTurns(1);
    fake.say({ author: alice, channelId: general.id, content: h.mention('remember 7') });
    await answered;
    const it = fake.slash({ user: bob, channelId: general.id, name: 'reset' });
    const refusal = await fake.waitFor(() =>
      fake.state
        .channelMessages(general.id)
        .find((m) => m.interactionId === it.id && !m.deleted && m.content),
    );
    expect(refusal.content).toBe(t('en', 'guard.denied'));
    expect(refusal.flags & 64).toBe(64);
    expect((await h.app.service.history.load(`discord:${h.guild.id}:${general.id}`)).length).toBe(2);
  });
});

describe('private results typed in a channel', () => {
  test('@bot /usage in a channel shows a pointer to the slash command, never the numbers', async () => {
    h = await startDiscordHarness({ sim: { responder: () => 'Tea is good.' } });
    const { fake, general, alice } = h;
    const turns = h.expectTurns(2);
    fake.say({ author: alice, channelId: general.id, content: h.mention('tell me about tea') });
    await h.turns(1);
    fake.say({ author: alice, channelId: general.id, content: h.mention('/usage') });
    await turns;
    const shown = fake.botMessages(general.id).map((m) => m.content);
    expect(shown).toEqual(['Tea is good.', t('en', 'cmd.private', { name: 'usage' })]);
  });

  test('in a DM the same typed /usage shows the numbers', async () => {
    h = await startDiscordHarness({ sim: { responder: () => 'Tea is good.' } });
    const { fake, alice } = h;
    const turns = h.expectTurns(2);
    fake.dm(alice, 'tell me about tea');
    await h.turns(1);
    const dm = fake.dmChannel(alice);
    fake.dm(alice, '/usage');
    await turns;
    expect(fake.botMessages(dm.id).at(-1)?.content).toContain(t('en', 'usage.you'));
  });
});
