/**
 * The measurement behind faq.confidentThreshold and faq.suggestThreshold: score distributions of
 * held-out paraphrases (English and Chinese) and unrelated questions against the shipped FAQ, with the
 * simulator's embeddings through the real client. The defaults must separate them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaqMatch } from '../../src/faq/service.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { PARAPHRASES, UNRELATED } from './measure-set.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { faq: { watch: false } } });
  await h.app.faq.ready();
});
afterAll(() => h.close());

const fmt = (xs: number[]) =>
  xs
    .slice()
    .sort((a, b) => a - b)
    .map((x) => x.toFixed(2))
    .join(' ');

describe('FAQ thresholds, measured', () => {
  it('every paraphrase ranks its entry first; the defaults separate right, wrong and unrelated scores', async () => {
    const { confidentThreshold, suggestThreshold } = h.config.faq;
    const all = h.app.faq.entries.length;
    const right: number[] = [];
    const wrong: number[] = [];
    const ranks: number[] = [];
    for (const p of PARAPHRASES) {
      const ranked: FaqMatch[] = await h.app.faq.search(p.query, all);
      const rank = ranked.findIndex((m) => m.entry.question === p.expect);
      ranks.push(rank + 1);
      right.push(ranked[rank]?.score ?? 0);
      wrong.push(ranked.find((m) => m.entry.question !== p.expect)?.score ?? 0);
    }
    const unrelated: number[] = [];
    for (const q of UNRELATED) unrelated.push((await h.app.faq.search(q, 1))[0]?.score ?? 0);

    console.log(
      `FAQ scores (sim embeddings, ${PARAPHRASES.length} paraphrases, ${UNRELATED.length} unrelated)\n` +
        `  right entry:        ${fmt(right)}\n  best wrong entry:   ${fmt(wrong)}\n  unrelated (best):   ${fmt(unrelated)}`,
    );
    expect(ranks.every((r) => r === 1)).toBe(true);
    // Nothing unrelated reaches "did you mean"; no wrong entry is ever answered with confidence.
    expect(Math.max(...unrelated)).toBeLessThan(suggestThreshold);
    expect(Math.max(...wrong)).toBeLessThan(confidentThreshold);
    // Most paraphrases are answered outright, nearly all at least suggested.
    const confident = right.filter((s) => s >= confidentThreshold).length;
    const suggested = right.filter((s) => s >= suggestThreshold).length;
    expect(confident / right.length).toBeGreaterThanOrEqual(0.75);
    expect(suggested / right.length).toBeGreaterThanOrEqual(0.9);
    console.log(
      `  confident ≥ ${confidentThreshold}: ${confident}/${right.length}; suggested ≥ ${suggestThreshold}: ${suggested}/${right.length}`,
    );
  });
});
