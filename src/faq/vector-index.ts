import { createKernel, type DotKernel } from './kernel.ts';

export interface Hit {
  /** Group (FAQ entry) index. */
  group: number;
  /** Cosine similarity of the group's best row (phrasing). */
  score: number;
  /** Row index of that phrasing. */
  row: number;
}

/**
 * Nearest-neighbour search over groups of pre-normalised vectors held in one contiguous Float32Array.
 * A group (an FAQ entry) owns consecutive rows (its phrasings) and scores as its best row.
 */
export class VectorIndex {
  readonly dims: number;
  readonly rows: number;
  private readonly kernel: DotKernel;
  /** groupStart[g] .. groupStart[g + 1] are the rows of group g. */
  private readonly groupStart: Int32Array;

  constructor(dims: number, groupSizes: number[], options: { forceJs?: boolean } = {}) {
    this.dims = dims;
    this.groupStart = new Int32Array(groupSizes.length + 1);
    for (let g = 0; g < groupSizes.length; g++)
      this.groupStart[g + 1] = (this.groupStart[g] ?? 0) + (groupSizes[g] ?? 0);
    this.rows = this.groupStart[groupSizes.length] ?? 0;
    this.kernel = createKernel(this.rows, dims, options);
  }

  get groups(): number {
    return this.groupStart.length - 1;
  }

  /** Bytes of the vectors, query and score buffers plus the group table. */
  get bytes(): number {
    return this.kernel.bytes + this.groupStart.byteLength;
  }

  get simd(): boolean {
    return this.kernel.simd;
  }

  /** Stores `vector` (normalised here) as row `row`. */
  setRow(row: number, vector: ArrayLike<number>): void {
    if (vector.length !== this.dims)
      throw new Error(`vector has ${vector.length} dimensions; the index has ${this.dims}`);
    this.kernel.matrix.set(normalise(vector), row * this.dims);
  }

  /** The best `k` groups for a query vector, best first. */
  search(query: ArrayLike<number>, k: number): Hit[] {
    if (this.rows === 0 || k <= 0) return [];
    this.kernel.query.set(normalise(query));
    this.kernel.run();
    const scores = this.kernel.scores;
    // Keep the top k in a small sorted array: k is a handful, groups can be 100,000.
    const top: Hit[] = [];
    let floor = Number.NEGATIVE_INFINITY;
    for (let g = 0; g < this.groups; g++) {
      const start = this.groupStart[g] ?? 0;
      const end = this.groupStart[g + 1] ?? 0;
      let best = Number.NEGATIVE_INFINITY;
      let row = start;
      for (let r = start; r < end; r++) {
        const s = scores[r] ?? Number.NEGATIVE_INFINITY;
        if (s > best) {
          best = s;
          row = r;
        }
      }
      if (top.length === k && best <= floor) continue;
      let i = top.length;
      while (i > 0 && (top[i - 1]?.score ?? 0) < best) i--;
      top.splice(i, 0, { group: g, score: best, row });
      if (top.length > k) top.pop();
      floor = top.length === k ? (top[k - 1]?.score ?? floor) : Number.NEGATIVE_INFINITY;
    }
    return top;
  }
}

export function normalise(v: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(v);
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += (out[i] ?? 0) ** 2;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) / norm;
  return out;
}
