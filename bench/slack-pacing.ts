/**
 * Slack pacing benchmark: 50 people mention the bot in one channel at once, each answer in its own
 * thread, through the real Slack adapter (Bolt, HTTP mode) against the fake Slack, which enforces the
 * published per-method tiers with 429 + Retry-After. The simulator streams each answer over ~3 s.
 * Reports the 429s Slack sent, the makespan (first event delivered → last answer complete) and
 * Slack API calls per second. `node bench/slack-pacing.ts` runs it alone.
 */
import { startRig } from '../test/slack/rig.ts';

export interface SlackPacingFigures {
  slack_50_threads_429s: number;
  slack_50_threads_makespan_s: number;
  slack_50_threads_calls_per_s: number;
  slack_50_threads_complete: number;
}

const ANSWERS = 50;
const CHANNEL = 'C0GENERAL';

export async function benchSlackPacing(): Promise<SlackPacingFigures> {
  const text = 'streaming words that arrive a few at a time '.repeat(12).trim();
  const rig = await startRig({
    // A benchmark measures real time (and runs outside vitest, which fakes the clock).
    clock: 'real',
    sim: { responder: () => text },
    config: {
      qwen: { totalTimeoutMs: 300_000, firstTokenTimeoutMs: 60_000 },
      guards: { userMessagesPerWindow: 1000 },
      streaming: { minEditIntervalMs: 1000 },
    },
  });
  try {
    for (let i = 0; i < ANSWERS; i++) rig.sim.script({ chunkChars: 8, chunkDelayMs: 50 });
    const mention = `<@${rig.fake.bot.userId}>`;
    const said = Array.from({ length: ANSWERS }, (_, i) =>
      rig.say({ channel: CHANNEL, text: `${mention} go ${i}` }),
    );
    const before = rig.fake.calls.length;
    const start = performance.now();
    // Fifty answers share the workspace's tiers: about a minute in all, longer than a test's deadline.
    await Promise.all(said.map((s) => rig.deliver(s, 600_000)));
    await rig.slack.idle();
    const seconds = (performance.now() - start) / 1000;
    const squash = (s: string) => s.replace(/\s+/g, '');
    const complete = said.filter((s) => {
      const shown = rig.fake
        .thread(CHANNEL, s.ts)
        .filter((m) => m.bot)
        .map((m) => m.text)
        .join('');
      return squash(shown).includes(squash(text));
    }).length;
    const calls = rig.fake.calls.slice(before);
    return {
      slack_50_threads_429s: calls.filter((c) => c.outcome === 'ratelimited').length,
      slack_50_threads_makespan_s: Math.round(seconds * 10) / 10,
      slack_50_threads_calls_per_s: Math.round((calls.length / seconds) * 10) / 10,
      slack_50_threads_complete: complete,
    };
  } finally {
    await rig.close();
  }
}

if (import.meta.main) {
  const figures = await benchSlackPacing();
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  process.exit(0);
}
