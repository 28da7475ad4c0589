/**
 * Runs the DashScope simulator in its own process, so benchmarks measure the bot, not the simulator.
 * `SIM_PACE=<first token ms>,<tokens per s>` paces it like a real model; `SIM_ANSWER` is the answer text.
 * Asked `{ type: 'timings' }` over IPC, it sends back, per chat request so far, the last message's text
 * and how long the simulator itself took from having the request to writing its first content chunk.
 */
import { type RecordedRequest, startDashScopeSim } from '../src/sim/dashscope-sim.ts';
import { TEST_API_KEY } from '../test/support/harness.ts';

export interface SimTiming {
  /** The last message's content (the benchmarks put an id there). */
  lastMessage: string;
  /** The model's own time to first token, as the simulator measured it (ms). */
  ttftMs: number;
}

const [firstTokenDelayMs, tokensPerSecond] = (process.env.SIM_PACE ?? '').split(',').map(Number);
const answer = process.env.SIM_ANSWER ?? 'A short answer of a few words for the benchmark.';
const sim = await startDashScopeSim({
  apiKey: TEST_API_KEY,
  responder: () => answer,
  ...(firstTokenDelayMs !== undefined && tokensPerSecond
    ? { pace: { firstTokenDelayMs, tokensPerSecond } }
    : {}),
});

function timings(requests: RecordedRequest[]): SimTiming[] {
  const out: SimTiming[] = [];
  for (const r of requests) {
    if (r.receivedAt === undefined || r.firstContentAt === undefined) continue;
    const messages = (r.body.messages ?? []) as Array<{ content?: unknown }>;
    out.push({
      lastMessage: String(messages.at(-1)?.content ?? ''),
      ttftMs: r.firstContentAt - r.receivedAt,
    });
  }
  return out;
}

process.on('message', (m: { type?: string }) => {
  if (m?.type !== 'timings') return;
  process.send?.({ type: 'timings', timings: timings(sim.requests) });
  // Only the requests not yet reported are kept (a long run would otherwise hold every body).
  sim.requests.length = 0;
});
process.stdout.write(`${JSON.stringify({ baseUrl: sim.baseUrl })}\n`);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
// A benchmark that died without stopping it (an exception, Ctrl-C) leaves no simulator behind.
process.on('disconnect', () => void sim.close().then(() => process.exit(0)));
