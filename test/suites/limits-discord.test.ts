/**
 * Account-wide rate limits end to end through the real Discord adapter, the real openai SDK and the
 * DashScope simulator refusing above 60 RPM (and RPS = 1) for qwen-plus. The limiter and the simulator
 * share a hand-moved clock, so the minute passes without waiting. What people see: queued answers say
 * where they stand and are then answered, nobody gets a 429, a full queue gives the busy line, and a
 * fallback model's answer says which model answered.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TurnOutcome } from '../../src/core/service.ts';
import type { ModelLimits } from '../../src/qwen/limits.ts';
import { type DiscordHarness, startDiscordHarness } from '../discord/harness.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { until } from './support.ts';

const clock = new ManualClock();
let h: DiscordHarness;
let limits: ModelLimits;
beforeAll(async () => {
  h = await startDiscordHarness({
    limitsClock: clock,
    sim: { rateLimits: { 'qwen-plus': { rpm: 60, tpm: 1_000_000 } }, now: clock.now },
    config: {
      models: { 'qwen-plus': { rpm: 60, tpm: 1_000_000, fallback: ['qwen-turbo'] } },
      qwen: { queue: { max: 4, showAfterMs: 500 } },
      guards: { userMessagesPerWindow: 1000 },
      faq: { enabled: false },
    },
  });
  const l = h.app.qwen.limits;
  if (!l) throw new Error('the app has no rate limiter');
  limits = l;
});
afterAll(async () => {
  await h?.close();
});

/** Asks in `n` fresh channels at once; resolves once every question has reached the limiter or the bot's reply. */
async function burst(prefix: string, n: number) {
  const sentBefore = baseline();
  const channels = Array.from({ length: n }, (_, i) => h.fake.addChannel(h.guild, `${prefix}-${i}`));
  const outcomes = h.expectTurns(n, 30_000);
  for (const [i, c] of channels.entries())
    h.fake.say({ author: h.alice, channelId: c.id, content: h.mention(`${prefix} question ${i}`) });
  return { channels, outcomes, sentBefore };
}

/**
 * Moves the clock a second at a time, each time once the simulator has received every call granted
 * (call `baseline()` before asking: afterwards a granted call may still be on its way).
 */
async function driveUntilDone(outcomes: Promise<TurnOutcome[]>, sentBefore: number): Promise<TurnOutcome[]> {
  let done: TurnOutcome[] | undefined;
  void outcomes.then((o) => (done = o));
  while (!done) {
    await until(
      () => done || (limits.waiting > 0 && h.sim.chatRequests().length - sentBefore >= limits.granted),
      'a call waiting and every granted call sent',
    );
    if (!done) await clock.advance(1000);
  }
  return done;
}

/** Chat calls the simulator received beyond those the limiter granted (everything granted so far has arrived). */
const baseline = () => h.sim.chatRequests().length - limits.granted;

/** One series of /metrics, as an operator's scraper reads it. */
async function metric(series: string): Promise<number | undefined> {
  const line = (await h.app.metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const shows = (channelId: string) => h.fake.botMessages(channelId).at(-1)?.content ?? '';

describe('a burst above the account rate (60 RPM)', () => {
  test('waiting answers say where they stand, move up, and are all answered without a 429', async () => {
    const { channels, outcomes, sentBefore } = await burst('burst', 5);
    // One call goes out at once; four wait their turn.
    await until(() => limits.waiting === 4 && h.sim.chatRequests().length >= 1, 'four calls queued');
    expect(await metric('qwenbot_rate_queue_length{model="qwen-plus"}')).toBe(4);
    expect(channels.map((c) => shows(c.id)).filter((s) => s.startsWith('⏳'))).toEqual([]);
    await clock.advance(500);
    const queued = await until(() => {
      const lines = channels.map((c) => shows(c.id)).filter((s) => s.startsWith('⏳'));
      return lines.length === 4 && lines;
    }, 'four queued lines');
    expect([...queued].sort()).toEqual([
      '⏳ queued — 0 ahead',
      '⏳ queued — 1 ahead',
      '⏳ queued — 2 ahead',
      '⏳ queued — 3 ahead',
    ]);
    const last = channels.find((c) => shows(c.id) === '⏳ queued — 3 ahead');
    // A second later the next call goes out, and the last in line moves up.
    await clock.advance(500);
    await until(() => last && shows(last.id) === '⏳ queued — 2 ahead', 'the last one moved up');

    const done = await driveUntilDone(outcomes, sentBefore);
    expect(done.map((o) => o.status)).toEqual(['answered', 'answered', 'answered', 'answered', 'answered']);
    for (const [i, c] of channels.entries()) {
      const content = shows(c.id);
      expect(content).toContain(`burst question ${i}`);
      expect(content).not.toMatch(/⏳|⚠️/);
    }
    expect(h.sim.refusals).toEqual({ rpm: 0, rps: 0, tpm: 0 });
    expect(
      h.sim.chatRequests().filter((b) => JSON.stringify(b.messages).includes('burst question')),
    ).toHaveLength(5);
  });

  test('beyond the queue bound the extra question gets the busy line; the others are answered', async () => {
    await clock.advance(60_000);
    const { channels, outcomes, sentBefore } = await burst('full', 6);
    await until(
      () => limits.waiting === 4 && channels.some((c) => shows(c.id).includes('too many questions')),
      'four calls queued and one turned away',
    );
    const done = await driveUntilDone(outcomes, sentBefore);
    const busy = channels.filter((c) => shows(c.id).includes('too many questions are waiting'));
    expect(busy).toHaveLength(1);
    expect(shows(busy[0]?.id ?? '')).toBe(
      '⚠️ The bot is busy: too many questions are waiting for the model right now. Please try again in a minute.',
    );
    expect(done.filter((o) => o.status === 'answered')).toHaveLength(5);
    expect(h.sim.refusals).toEqual({ rpm: 0, rps: 0, tpm: 0 });
  });
});

describe('fallback models', () => {
  test('a 503 from qwen-plus before the first token: qwen-turbo answers and the last line names it', async () => {
    await clock.advance(60_000);
    const channel = h.fake.addChannel(h.guild, 'fallback');
    h.sim.script({
      error: { status: 503, code: 'ModelServingError', message: 'Model is overloaded.' },
      match: (b) => b.model === 'qwen-plus' && JSON.stringify(b.messages).includes('fallback question'),
    });
    const turn = h.expectTurns(1);
    const before = h.sim.chatRequests().length;
    const sentBefore = baseline();
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('fallback question') });
    const [outcome] = await driveUntilDone(turn, sentBefore);
    expect(outcome?.status).toBe('answered');
    const lines = shows(channel.id).split('\n');
    expect(lines[0]).toContain('fallback question');
    expect(lines.at(-1)).toBe('(answered by qwen-turbo; qwen-plus was busy)');
    // No retries on the busy model: one call to each.
    expect(
      h.sim
        .chatRequests()
        .slice(before)
        .map((b) => b.model),
    ).toEqual(['qwen-plus', 'qwen-turbo']);
  });
});
