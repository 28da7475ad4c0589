/**
 * REAL TIME on purpose (but the last test): the edit floor that protects Discord, measured on the wall
 * clock (every other Discord test runs on fake time, see harness.ts). Faster pacing exists only as an adapter option for
 * tests; the config key cannot go below the platform's floor.
 */
import { afterEach, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Streams a ~1.6 s answer and returns the gaps between the edits of its message (final edit left out). */
async function editGaps(harness: DiscordHarness): Promise<number[]> {
  const answer = Array.from({ length: 40 }, (_, i) => `p${i}`).join(' ');
  harness.sim.script({ text: answer, chunkChars: 6, chunkDelayMs: 80 });
  const turn = harness.expectTurns(1);
  harness.fake.say({ author: harness.alice, channelId: harness.general.id, content: harness.mention('go') });
  expect((await turn)[0]?.status).toBe('answered');
  const reply = harness.fake.botMessages(harness.general.id).at(-1);
  expect(reply?.content).toBe(answer);
  const edits = harness.editsOf(harness.general.id, reply?.id ?? '').slice(0, -1);
  return edits.slice(1).map((e, i) => e.at - (edits[i]?.at ?? 0));
}

test('edits of one message stay at least ~1 s apart, even with streaming.minEditIntervalMs 0', async () => {
  h = await startDiscordHarness({ clock: 'real', config: { streaming: { minEditIntervalMs: 0 } } });
  const gaps = await editGaps(h);
  expect(gaps.length).toBeGreaterThanOrEqual(1);
  for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
});

test('pacing given to the adapter (tests only) replaces the floor: edits come closer together', async () => {
  // Fake time is enough here: this is about the option, not the wall clock.
  h = await startDiscordHarness({
    config: { streaming: { minEditIntervalMs: 0 } },
    pacing: { minEditIntervalMs: 100, channelBucket: { points: 100, durationSec: 1 } },
  });
  const gaps = await editGaps(h);
  // The stream lasts ~1.6 s: with the 1 s floor it would get at most one gap, each over 950 ms.
  expect(gaps.length).toBeGreaterThanOrEqual(4);
  expect(Math.min(...gaps)).toBeLessThan(950);
  expect(h.fake.rateLimited).toBe(0);
});
