/**
 * FAQ lookup benchmark: top-5 over 1k, 10k and 100k entries of 1,024 dimensions (random normalised
 * vectors, one phrasing each, one core), and the index's memory at 10k.
 * `node bench/faq.ts` prints the figures; `bench/run.ts` can call `benchFaq()`.
 */
import { VectorIndex } from '../src/faq/vector-index.ts';

export interface FaqBench {
  faq_lookup_1k_ms: number;
  faq_lookup_10k_ms: number;
  faq_lookup_100k_ms: number;
  faq_index_10k_mb: number;
}

const DIMS = 1024;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32 - 0.5;
  };
}

function buildIndex(entries: number, forceJs = false): VectorIndex {
  const index = new VectorIndex(DIMS, new Array<number>(entries).fill(1), { forceJs });
  const next = rng(entries);
  const row = new Float32Array(DIMS);
  for (let r = 0; r < entries; r++) {
    for (let j = 0; j < DIMS; j++) row[j] = next();
    index.setRow(r, row);
  }
  return index;
}

/** Median milliseconds of one top-5 lookup (query normalisation, all dot products, top-k). */
function timeLookups(index: VectorIndex, runs: number): number {
  const next = rng(7);
  const queries = Array.from({ length: runs + 3 }, () => Array.from({ length: DIMS }, next));
  for (const q of queries.slice(0, 3)) index.search(q, 5);
  const times: number[] = [];
  for (const q of queries.slice(3)) {
    const t0 = performance.now();
    index.search(q, 5);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return round(times[Math.floor(times.length / 2)] ?? 0);
}

const round = (x: number) => Math.round(x * 100) / 100;

export function benchFaq(): FaqBench {
  const i1k = buildIndex(1_000);
  const lookup1k = timeLookups(i1k, 50);
  const i10k = buildIndex(10_000);
  const lookup10k = timeLookups(i10k, 30);
  const mb10k = round(i10k.bytes / 1024 / 1024);
  const i100k = buildIndex(100_000);
  const lookup100k = timeLookups(i100k, 10);
  return {
    faq_lookup_1k_ms: lookup1k,
    faq_lookup_10k_ms: lookup10k,
    faq_lookup_100k_ms: lookup100k,
    faq_index_10k_mb: mb10k,
  };
}

if (import.meta.main) {
  const simd = new VectorIndex(DIMS, [1]).simd;
  const figures = benchFaq();
  console.log(
    `FAQ lookup, top-5 of N entries × ${DIMS} dims, one core (${simd ? 'WebAssembly SIMD' : 'plain JS'}):`,
  );
  console.log(`  1k entries:   ${figures.faq_lookup_1k_ms} ms`);
  console.log(`  10k entries:  ${figures.faq_lookup_10k_ms} ms`);
  console.log(`  100k entries: ${figures.faq_lookup_100k_ms} ms`);
  console.log(`  index memory at 10k: ${figures.faq_index_10k_mb} MB`);
  console.log(`  (plain JS fallback at 10k: ${timeLookups(buildIndex(10_000, true), 5)} ms)`);
  console.log(JSON.stringify(figures));
}
