import { afterEach, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/core/prompt.ts';
import { CACHED_PRICE_FRACTION, costOf } from '../../src/core/usage.ts';
import { LONG_SYSTEM_PROMPT } from '../support/cache-usage.ts';
import { until } from '../support/fake-time.ts';
import { channelRef, type Harness, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const alice = { id: 'U1', name: 'Alice', isBot: false };
const usageOf = (s: Harness['app']['service']) =>
  s.runCommand({ name: 'usage', conversation: channelRef(), author: alice });

/** Waits until the surface shows `text` (with a deadline). */
function shows(surface: RecordingSurface, text: string): Promise<boolean> {
  return until(() => surface.transcript().includes(text), `the surface to show "${text}"`, 10_000, 1);
}

describe('usage and quota count every billed token', () => {
  it('a stopped answer counts toward /usage and the daily quota', async () => {
    h = await startHarness({ config: { usage: { dailyTokenQuotaPerUser: 60 } } });
    const s = h.app.service;
    h.sim.script({ text: 'word '.repeat(200), chunkDelayMs: 5, chunkChars: 5 });
    const surface = new RecordingSurface();
    const pending = s.handleMessage(message('long please', { author: alice }), surface);
    await shows(surface, 'word word word');
    expect(s.stop(surface.events[0]?.id ?? '', alice)).toBe(true);
    expect((await pending).status).toBe('stopped');

    // Billed: the prompt, plus the words that streamed before the stop (no usage chunk came).
    const stored = (await s.history.load('test:W1:C1')).at(-1);
    expect(stored?.status).toBe('stopped');
    expect(stored?.usage).toMatchObject({ estimated: true });
    expect(stored?.usage?.promptTokens).toBeGreaterThan(0);
    expect(stored?.usage?.completionTokens).toBe(estimateTokens(stored?.text ?? ''));
    const total = (stored?.usage?.promptTokens ?? 0) + (stored?.usage?.completionTokens ?? 0);
    expect(total).toBeGreaterThanOrEqual(60);

    const usage = await usageOf(s);
    expect(usage.text).toContain(
      `Today: 1 answers, ${stored?.usage?.promptTokens} in (0 cached) / ${stored?.usage?.completionTokens} out`,
    );
    const next = new RecordingSurface();
    const refused = await s.handleMessage(message('one more', { author: alice }), next);
    expect(refused.status).toBe('refused');
    expect(next.shown()).toEqual([
      `You have used your daily token quota (${total} of 60). It resets at 00:00 UTC.`,
    ]);
  });

  it('an answer cut by a dropped connection bills the prompt and what streamed', async () => {
    h = await startHarness();
    const s = h.app.service;
    h.sim.script({ text: 'The first part arrives, then the line drops.', cutAfterChunks: 3 });
    const outcome = await s.handleMessage(message('tell me', { author: alice }), new RecordingSurface());
    expect(outcome.status).toBe('error');
    const stored = (await s.history.load('test:W1:C1')).at(-1);
    expect(stored?.text).toBe('The first part arr');
    expect(stored?.usage).toMatchObject({
      completionTokens: estimateTokens('The first part arr'),
      estimated: true,
    });
    const totals = await s.usage.totals({ kind: 'user', platform: 'test', id: 'U1' });
    expect(totals.today.answers).toBe(1);
    expect(totals.today.promptTokens).toBe(stored?.usage?.promptTokens);
    expect(totals.today.promptTokens).toBeGreaterThan(0);
  });

  it('a request DashScope refused before streaming (HTTP 429 after retries) bills nothing', async () => {
    h = await startHarness();
    const s = h.app.service;
    const e429 = { error: { status: 429, code: 'limit_requests' } };
    h.sim.script(e429, e429, e429);
    await s.handleMessage(message('hello', { author: alice }), new RecordingSurface());
    const totals = await s.usage.totals({ kind: 'user', platform: 'test', id: 'U1' });
    expect(totals.today).toMatchObject({ answers: 0, promptTokens: 0, completionTokens: 0 });
  });

  it('cached prompt tokens are recorded and priced at the cached rate', async () => {
    h = await startHarness();
    const s = h.app.service;
    h.sim.script({ text: 'Cached answer.', cachedTokens: 40 });
    await s.handleMessage(message('same long prefix again', { author: alice }), new RecordingSurface());
    const stored = (await s.history.load('test:W1:C1')).at(-1);
    const usage = stored?.usage;
    expect(usage?.cachedTokens).toBe(40);
    expect(usage?.estimated).toBeUndefined();
    const totals = await s.usage.totals({ kind: 'conversation', key: 'test:W1:C1' });
    expect(totals.today.cachedTokens).toBe(40);
    // qwen-plus: ¥4 in, ¥12 out per million; cache hits at 20 % of the input price.
    const prompt = usage?.promptTokens ?? 0;
    const completion = usage?.completionTokens ?? 0;
    const expected = ((prompt - 40) * 4 + 40 * 4 * CACHED_PRICE_FRACTION + completion * 12) / 1_000_000;
    expect(totals.today.cost).toBeCloseTo(expected, 12);
    expect(totals.today.cost).toBeLessThan((prompt * 4 + completion * 12) / 1_000_000);
    const shown = await s.runCommand({
      name: 'usage',
      rawArgs: '',
      conversation: channelRef(),
      author: alice,
    });
    expect(shown.text).toContain(`Today: 1 answers, ${prompt} in (40 cached) / ${completion} out`);
  });

  it('a model’s own priceCached overrides the default fraction', () => {
    const usage = {
      promptTokens: 1000,
      completionTokens: 0,
      reasoningTokens: 0,
      cachedTokens: 600,
      totalTokens: 1000,
    };
    expect(costOf(usage, { priceIn: 10, priceOut: 0, priceCached: 1 })).toBeCloseTo(
      (400 * 10 + 600 * 1) / 1e6,
      12,
    );
    expect(costOf(usage, { priceIn: 10, priceOut: 0 })).toBeCloseTo((400 * 10 + 600 * 2) / 1e6, 12);
  });

  it('explicit cache reads cost 10 % and writes 125 % of the input price; /usage says when writes cost more so far', async () => {
    h = await startHarness({ config: { systemPrompt: LONG_SYSTEM_PROMPT } });
    const s = h.app.service;
    await s.handleMessage(message('first question', { author: alice }), new RecordingSurface());
    const first = (await s.history.load('test:W1:C1')).at(-1)?.usage;
    const written = first?.cacheCreationTokens ?? 0;
    expect(written).toBeGreaterThan(1024);
    expect(first?.cachedTokens).toBe(0);
    // Nothing read back yet: the write's extra 25 % is all the cache has done.
    const extra = (written * 4 * 0.25) / 1e6;
    expect((await usageOf(s)).text).toContain(
      `(cache writes cost ≈¥${extra.toFixed(4)} more than they saved so far)`,
    );

    await s.handleMessage(message('second question', { author: alice }), new RecordingSurface());
    const second = (await s.history.load('test:W1:C1')).at(-1)?.usage;
    expect(second?.cachedTokens).toBe(written);
    expect(second?.explicitCachedTokens).toBe(written);
    const usage = second ?? first;
    if (!usage) throw new Error('no usage stored');
    const plain = usage.promptTokens - usage.cachedTokens - (usage.cacheCreationTokens ?? 0);
    expect(costOf(usage, { priceIn: 4, priceOut: 12 })).toBeCloseTo(
      (plain * 4 +
        usage.cachedTokens * 0.4 +
        (usage.cacheCreationTokens ?? 0) * 5 +
        usage.completionTokens * 12) /
        1e6,
      12,
    );
    const saved = (written * 4 * 0.9 - (written + (usage.cacheCreationTokens ?? 0)) * 4 * 0.25) / 1e6;
    expect((await usageOf(s)).text).toContain(`(cache saved ≈¥${saved.toFixed(4)})`);
  });
});
