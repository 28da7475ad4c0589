/**
 * Runs the DashScope simulator in its own process, so benchmarks measure the bot, not the simulator.
 * `SIM_PACE=<first token ms>,<tokens per s>` paces it like a real model; `SIM_ANSWER` is the answer text.
 */
import { startDashScopeSim } from '../src/sim/dashscope-sim.ts';
import { TEST_API_KEY } from '../test/support/harness.ts';

const [firstTokenDelayMs, tokensPerSecond] = (process.env.SIM_PACE ?? '').split(',').map(Number);
const answer = process.env.SIM_ANSWER ?? 'A short answer of a few words for the benchmark.';
const sim = await startDashScopeSim({
  apiKey: TEST_API_KEY,
  responder: () => answer,
  ...(firstTokenDelayMs !== undefined && tokensPerSecond
    ? { pace: { firstTokenDelayMs, tokensPerSecond } }
    : {}),
});
process.stdout.write(`${JSON.stringify({ baseUrl: sim.baseUrl })}\n`);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
