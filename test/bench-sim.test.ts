/**
 * The benchmarks' simulator runs in a process of its own and reports the model's own time to first
 * token per request, which the open-loop run subtracts to get the latency the bot adds
 * (`open_loop_added_latency_strict_*`, docs/benchmarks.md).
 */
import OpenAI from 'openai';
import { expect, it } from 'vitest';
import { bareSdkAnswer, withSim } from '../bench/core.ts';
import { TEST_API_KEY } from './support/harness.ts';

it("the simulator's process reports each request's own time to first token, once", async () => {
  const pace = { firstTokenDelayMs: 120, tokensPerSecond: 200 };
  await withSim(
    async (sim) => {
      const sdk = new OpenAI({ apiKey: TEST_API_KEY, baseURL: sim.baseUrl, maxRetries: 0 });
      for (const id of ['first question', 'second question']) {
        expect(await bareSdkAnswer(sdk, id)).toBe('four words of answer');
      }
      const timings = await sim.timings();
      expect(timings.map((t) => t.lastMessage)).toEqual(['first question', 'second question']);
      for (const t of timings) {
        // The paced delay, then the role chunk and one chunk's spacing before the first content.
        expect(t.ttftMs).toBeGreaterThanOrEqual(pace.firstTokenDelayMs + 1000 / pace.tokensPerSecond - 1);
        expect(t.ttftMs).toBeLessThan(5000);
      }
      expect(await sim.timings()).toEqual([]);
    },
    { pace, answer: 'four words of answer' },
  );
});
