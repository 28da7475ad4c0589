/**
 * The Qwen client takes rate capacity before every call, through the real openai SDK against the
 * simulator: embedding batches wait for the embedding model's rate like chat calls do, and `usage`
 * replaces a chat call's token estimate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ModelLimits } from '../../src/qwen/limits.ts';
import { until } from '../suites/support.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { TEST_API_KEY } from '../support/harness.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { simQwenClient } from '../support/qwen-client.ts';

let sim: DashScopeSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function client(s: DashScopeSim, limits: ModelLimits) {
  return simQwenClient(s.baseUrl, { retries: 0, retryBaseDelayMs: 1, embeddingDimensions: 64, limits });
}

const embeddingCalls = (s: DashScopeSim) => s.requests.filter((r) => r.path.endsWith('/embeddings')).length;

describe('QwenClient with account-wide limits', () => {
  it('embedding batches wait for the embedding model’s rate (60 RPM: one batch a second)', async () => {
    const clock = new ManualClock();
    sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
    const limits = new ModelLimits({
      rate: () => ({ rpm: 60, tpm: 1_000_000 }),
      maxQueue: 10,
      showAfterMs: 0,
      clock,
    });
    const texts = Array.from({ length: 30 }, (_, i) => `entry ${i}`);
    let vectors: number[][] | undefined;
    void client(sim, limits)
      .embed(texts)
      .then((v) => (vectors = v));
    await until(
      () => embeddingCalls(sim as DashScopeSim) === 1 && limits.waiting === 2,
      'one batch sent, two waiting',
    );
    await clock.advance(999);
    expect(embeddingCalls(sim)).toBe(1);
    await clock.advance(1);
    await until(() => embeddingCalls(sim as DashScopeSim) === 2, 'the second batch a second later');
    await clock.advance(1000);
    await until(() => vectors, 'all vectors');
    expect(vectors).toHaveLength(30);
    expect(embeddingCalls(sim)).toBe(3);
  });

  it('a chat call’s estimate is replaced by the usage DashScope reports', async () => {
    const clock = new ManualClock();
    sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
    // 1,000 tokens a minute; each call is estimated at 600.
    const limits = new ModelLimits({
      rate: () => ({ rpm: 6000, tpm: 1000 }),
      maxQueue: 10,
      showAfterMs: 0,
      clock,
    });
    const qwen = client(sim, limits);
    const ask = async (text: string) => {
      const stream = qwen.streamChat({
        model: 'qwen-plus',
        messages: [{ role: 'user', content: text }],
        estimatedTokens: 600,
      });
      for (let n = await stream.next(); !n.done; n = await stream.next());
    };
    await ask('first');
    // The simulator counted a few dozen tokens, not 600: the second call fits in the same minute.
    let second = false;
    void ask('second').then(() => (second = true));
    // 10 ms is the spacing at 6,000 RPM; without the correction it would wait for the minute to pass.
    await clock.advance(10);
    await until(() => second, 'the second call answered without waiting for the minute');
    expect(sim.chatRequests()).toHaveLength(2);
  });
});
