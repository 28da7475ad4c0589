import { describe, expect, it } from 'vitest';
import { VectorIndex } from '../../src/faq/vector-index.ts';

function randomVectors(n: number, dims: number, seed = 1): number[][] {
  let s = seed;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: n }, () => Array.from({ length: dims }, rnd));
}

const cosine = (a: number[], b: number[]) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] ?? 0) * (b[i] ?? 0);
    na += (a[i] ?? 0) ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return dot / Math.sqrt(na * nb);
};

describe('VectorIndex (contiguous Float32 rows, pre-normalised, top-k by dot product)', () => {
  it('ranks groups by their best row exactly like a brute-force cosine sort, with SIMD and plain JS', () => {
    const dims = 64;
    const sizes = [1, 3, 2, 1, 4, 1, 2, 1, 1, 3];
    const rows = randomVectors(
      sizes.reduce((a, b) => a + b, 0),
      dims,
    );
    const query = randomVectors(1, dims, 99)[0] ?? [];
    const owner = sizes.flatMap((n, g) => Array.from({ length: n }, () => g));
    const expected = sizes
      .map((_, g) => ({
        group: g,
        score: Math.max(...rows.filter((_, r) => owner[r] === g).map((v) => cosine(v, query))),
      }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 4);
    for (const forceJs of [false, true]) {
      const index = new VectorIndex(dims, sizes, { forceJs });
      expect(index.simd).toBe(!forceJs);
      // Rows of any length: they are normalised on the way in.
      rows.forEach((v, r) => {
        index.setRow(
          r,
          v.map((x) => x * 7),
        );
      });
      const hits = index.search(query, 4);
      expect(hits.map((h) => h.group)).toEqual(expected.map((e) => e.group));
      hits.forEach((h, i) => {
        expect(h.score).toBeCloseTo(expected[i]?.score ?? 0, 5);
        expect(owner[h.row]).toBe(h.group);
      });
    }
  });

  it('falls back to plain JS when the dimension is not a multiple of 16, and handles an empty index', () => {
    const index = new VectorIndex(10, [1, 1]);
    expect(index.simd).toBe(false);
    index.setRow(0, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    index.setRow(1, [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(index.search([0, 2, 0, 0, 0, 0, 0, 0, 0, 0], 5).map((h) => [h.group, h.score])).toEqual([
      [1, 1],
      [0, 0],
    ]);
    expect(new VectorIndex(1024, []).search(new Array(1024).fill(1), 3)).toEqual([]);
    expect(() => index.setRow(0, [1, 2])).toThrow('vector has 2 dimensions; the index has 10');
  });
});
