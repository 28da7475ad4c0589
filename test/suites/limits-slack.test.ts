/**
 * Account-wide rate limits end to end through the real Slack adapter (native streaming on), the real
 * openai SDK and the DashScope simulator refusing above 60 RPM for qwen-plus, on a hand-moved clock the
 * limiter and the simulator share. A queued answer says so in its thread and is then answered in that
 * same message; a 429's Retry-After holds every call to the model until it has passed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ModelLimits } from '../../src/qwen/limits.ts';
import { type Rig, startRig } from '../slack/rig.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { until } from './support.ts';

const CHANNEL = 'C0GENERAL';
const clock = new ManualClock();
let rig: Rig;
let limits: ModelLimits;
beforeAll(async () => {
  rig = await startRig({
    limitsClock: clock,
    sim: { rateLimits: { 'qwen-plus': { rpm: 60 } }, now: clock.now },
    config: {
      models: { 'qwen-plus': { rpm: 60 } },
      qwen: { queue: { showAfterMs: 500 } },
      guards: { userMessagesPerWindow: 1000 },
      faq: { enabled: false },
    },
  });
  const l = rig.app.qwen.limits;
  if (!l) throw new Error('the app has no rate limiter');
  limits = l;
});
afterAll(async () => {
  await rig?.close();
});

const bot = () => `<@${rig.fake.bot.userId}>`;
const replies = (ts: string) => rig.fake.thread(CHANNEL, ts).filter((m) => m.bot);
const sentAt = (marker: string) =>
  rig.sim.chatRequests().filter((b) => JSON.stringify(b.messages).includes(marker)).length;

/** Moves the clock a second at a time while calls wait, each time once every granted call has arrived. */
async function drive(done: () => boolean, sentBefore: number): Promise<void> {
  while (!done()) {
    await until(
      () => done() || (limits.waiting > 0 && rig.sim.chatRequests().length - sentBefore >= limits.granted),
      'a call waiting and every granted call sent',
    );
    if (!done()) await clock.advance(1000);
  }
}

describe('Slack: a burst above the account rate', () => {
  test('the third question shows its place in its thread, then its answer in that same message', async () => {
    const sentBefore = rig.sim.chatRequests().length - limits.granted;
    const said = [0, 1, 2].map((i) => rig.say({ channel: CHANNEL, text: `${bot()} slack question ${i}` }));
    let finished = 0;
    for (const s of said) void rig.deliver(s).then(() => finished++);
    await until(() => limits.waiting === 2, 'two calls queued');
    await clock.advance(500);
    const third = await until(
      () => said.find((s) => replies(s.ts).some((m) => m.text === '⏳ queued — 1 ahead')),
      'a queued line in a thread',
    );
    await drive(() => finished === 3, sentBefore);
    for (const [i, s] of said.entries()) {
      const shown = replies(s.ts);
      expect(shown).toHaveLength(1);
      expect(shown[0]?.text).toContain(`slack question ${i}`);
      expect(shown[0]?.text).not.toMatch(/⏳|⚠️/);
    }
    // The queued answer was posted and edited (a native stream could not take the line back).
    expect(replies(third.ts)[0]?.format).toBe('mrkdwn');
    expect(rig.sim.refusals).toEqual({ rpm: 0, rps: 0, tpm: 0 });
  });

  test('a 429 with Retry-After: 3 holds the model 3 s for everyone, then both questions are answered', async () => {
    await clock.advance(60_000);
    const sentBefore = rig.sim.chatRequests().length - limits.granted;
    rig.sim.script({
      error: {
        status: 429,
        code: 'limit_requests',
        message: 'Requests rate limit exceeded, please try again later.',
        headers: { 'retry-after': '3' },
      },
      match: (b) => JSON.stringify(b.messages).includes('throttled first'),
    });
    const first = rig.say({ channel: CHANNEL, text: `${bot()} throttled first` });
    let finished = 0;
    void rig.deliver(first).then(() => finished++);
    await until(() => sentAt('throttled first') === 1 && limits.waiting === 1, 'the refused call waiting');
    const second = rig.say({ channel: CHANNEL, text: `${bot()} then second` });
    void rig.deliver(second).then(() => finished++);
    await until(() => limits.waiting === 2, 'both waiting');
    await clock.advance(2999);
    expect(sentAt('throttled first')).toBe(1);
    expect(sentAt('then second')).toBe(0);
    await clock.advance(1);
    await until(() => sentAt('throttled first') === 2, 'the retry sent once the pause is over');
    expect(sentAt('then second')).toBe(0);
    await drive(() => finished === 2, sentBefore);
    expect(replies(first.ts).map((m) => m.text)).toEqual([expect.stringContaining('throttled first')]);
    expect(replies(first.ts)[0]?.text).not.toContain('⚠️');
    expect(replies(second.ts)[0]?.text).toContain('then second');
  });
});
