/**
 * 50 questions at once against a DashScope simulator that refuses qwen-plus above 60 RPM (and 1 RPS),
 * with Retry-After, as DashScope's account limits do. Once with the bot told the account's rate (it
 * paces and queues), once told 100,000 RPM (no pacing: what a bot without the limiter does). The bot's
 * limiter and the simulator share a virtual clock moved by hand, so the simulated minute takes about a
 * second; waits are in that clock's seconds, which is what a person would wait.
 */
import { pino } from 'pino';
import { createApp } from '../src/app.ts';
import type { ReplySurface } from '../src/core/types.ts';
import { startDashScopeSim } from '../src/sim/dashscope-sim.ts';
import { message, TEST_API_KEY, testConfig } from '../test/support/harness.ts';
import { ManualClock } from '../test/support/manual-clock.ts';
import { percentile } from './core.ts';

const QUESTIONS = 50;
const ACCOUNT_RPM = 60;

interface Run {
  refusals: number;
  errorsShown: number;
  waits: number[];
  queuedLinesShown: number;
}

/** A surface that notes (on the virtual clock) when the answer's first words were shown. */
function clockedSurface(clock: ManualClock, n: number) {
  const state = { firstText: undefined as number | undefined, last: '', queued: false };
  const note = (text: string) => {
    state.last = text;
    if (text.startsWith('⏳')) state.queued = true;
    else if (state.firstText === undefined && text !== '…') state.firstText = clock.now();
  };
  const surface: ReplySurface = {
    limits: { maxChars: 2000, minEditIntervalMs: 0, paceBucket: `limits-${n}` },
    async post(text) {
      note(text);
      return { id: `m${n}` };
    },
    async edit(_m, text) {
      note(text);
    },
  };
  return { surface, state };
}

async function run(botRpm: number): Promise<Run> {
  const clock = new ManualClock();
  const sim = await startDashScopeSim({
    apiKey: TEST_API_KEY,
    rateLimits: { 'qwen-plus': { rpm: ACCOUNT_RPM } },
    now: clock.now,
  });
  const config = testConfig(sim.baseUrl, 'sqlite://:memory:', {
    faq: { enabled: false },
    guards: { userMessagesPerWindow: 1_000_000 },
    models: { 'qwen-plus': { rpm: botRpm } },
    qwen: { retryBaseDelayMs: 5, retries: 2, queue: { max: 1000, showAfterMs: 1000 } },
  });
  const app = await createApp(config, { log: pino({ level: 'silent' }), limitsClock: clock });
  const limits = app.qwen.limits;
  if (!limits) throw new Error('no limiter');
  try {
    const start = clock.now();
    const surfaces = Array.from({ length: QUESTIONS }, (_, n) => clockedSurface(clock, n));
    let finished = 0;
    const all = Promise.all(
      surfaces.map(({ surface }, n) =>
        app.service
          .handleMessage(
            message(`question ${n}`, {
              conversation: { platform: 'bench', workspace: 'W', channel: `C${n}`, isDM: false },
            }),
            surface,
          )
          .finally(() => finished++),
      ),
    );
    // Time moves only once every granted call has reached the simulator and something waits on it.
    while (finished < QUESTIONS) {
      const ready = limits.waiting > 0 && sim.chatRequests().length >= limits.granted;
      if (ready && clock.pending > 0) await clock.advance(100);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    await all;
    const { rpm, rps, tpm } = sim.refusals;
    return {
      refusals: rpm + rps + tpm,
      errorsShown: surfaces.filter((s) => s.state.last.includes('⚠️')).length,
      waits: surfaces.flatMap((s) =>
        s.state.firstText === undefined ? [] : [(s.state.firstText - start) / 1000],
      ),
      queuedLinesShown: surfaces.filter((s) => s.state.queued).length,
    };
  } finally {
    await app.close();
    await sim.close();
  }
}

export async function benchLimits(log: (line: string) => void): Promise<Record<string, number>> {
  log(`limits: ${QUESTIONS} questions at once, account limit ${ACCOUNT_RPM} RPM, paced by the bot…`);
  const paced = await run(ACCOUNT_RPM);
  log('limits: the same burst with the bot told 100,000 RPM (no pacing)…');
  const unpaced = await run(100_000);
  const r = (n: number) => Math.round(n * 100) / 100;
  return {
    limits_50_at_60rpm_429s: paced.refusals,
    limits_50_at_60rpm_errors_shown: paced.errorsShown,
    limits_50_at_60rpm_queued_lines_shown: paced.queuedLinesShown,
    limits_50_at_60rpm_wait_p50_s: r(percentile(paced.waits, 50)),
    limits_50_at_60rpm_wait_max_s: r(Math.max(...paced.waits)),
    limits_50_at_60rpm_unpaced_429s: unpaced.refusals,
    limits_50_at_60rpm_unpaced_errors_shown: unpaced.errorsShown,
  };
}
