/**
 * REAL TIME on purpose (but the last test): the pacing that protects Slack, measured on the wall clock
 * (every other Slack test runs on fake time, see rig.ts). Faster pacing exists only as an adapter option for tests; the
 * config key cannot go below the platform's floor.
 */
import { afterEach, expect, it } from 'vitest';
import { type Rig, startRig } from './rig.ts';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const DM = 'D0ALICE';
const CHANNEL = 'C0GENERAL';
const answer = Array.from({ length: 40 }, (_, i) => `p${i}`).join(' ');
/** ~2 s of streaming. */
const script = { text: answer, chunkChars: 6, chunkDelayMs: 100 };

/** Gaps between the calls of `method`, in order. */
function gaps(r: Rig, method: string): number[] {
  const at = r.fake.calls.filter((c) => c.method === method && c.outcome === 'ok').map((c) => c.at);
  return at.slice(1).map((t, i) => t - (at[i] ?? 0));
}

it('chat.update of one answer stays at least ~1.2 s apart, even with streaming.minEditIntervalMs 0', async () => {
  // The rig sets streaming.minEditIntervalMs to 0: only the surface's floor paces.
  rig = await startRig({ clock: 'real' });
  rig.sim.script(script);
  await rig.deliver(rig.say({ channel: DM, text: 'go' }));
  expect(
    rig.fake
      .channel(DM)
      .filter((m) => m.bot)
      .map((m) => m.text),
  ).toEqual([answer]);
  // The last update (the final text) goes out as soon as the answer is complete.
  const spaced = gaps(rig, 'chat.update').slice(0, -1);
  expect(spaced.length).toBeGreaterThanOrEqual(1);
  for (const gap of spaced) expect(gap).toBeGreaterThanOrEqual(1150);
});

it('chat.appendStream calls of a native stream stay at least ~1 s apart', async () => {
  rig = await startRig({ clock: 'real' });
  rig.sim.script(script);
  const said = rig.say({ channel: CHANNEL, text: `<@${rig.fake.bot.userId}> go` });
  await rig.deliver(said);
  const reply = rig.fake.thread(CHANNEL, said.ts).filter((m) => m.bot);
  expect(reply.map((m) => m.text)).toEqual([answer]);
  // The last append (the rest of the answer) goes out as soon as the answer is complete.
  const spaced = gaps(rig, 'chat.appendStream').slice(0, -1);
  expect(spaced.length).toBeGreaterThanOrEqual(1);
  for (const gap of spaced) expect(gap).toBeGreaterThanOrEqual(950);
});

it('pacing given to the adapter (tests only) replaces the floors: updates come closer together', async () => {
  // Fake time is enough here: this is about the option, not the wall clock.
  rig = await startRig({
    pacing: { minEditIntervalMs: 100, updateBucket: { points: 100, durationSec: 1 } },
  });
  rig.sim.script(script);
  await rig.deliver(rig.say({ channel: DM, text: 'go' }));
  expect(
    rig.fake
      .channel(DM)
      .filter((m) => m.bot)
      .map((m) => m.text),
  ).toEqual([answer]);
  const spaced = gaps(rig, 'chat.update').slice(0, -1);
  // With the 1.2 s floor every one of these gaps would be over 1.15 s.
  expect(spaced.length).toBeGreaterThanOrEqual(4);
  expect(Math.min(...spaced)).toBeLessThan(1150);
});
