/** Runs the DashScope simulator in its own process, so benchmarks measure the bot, not the simulator. */
import { startDashScopeSim } from '../src/sim/dashscope-sim.ts';
import { TEST_API_KEY } from '../test/support/harness.ts';

const sim = await startDashScopeSim({
  apiKey: TEST_API_KEY,
  responder: () => 'A short answer of a few words for the benchmark.',
});
process.stdout.write(`${JSON.stringify({ baseUrl: sim.baseUrl })}\n`);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
