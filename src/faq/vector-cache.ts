import { createHash } from 'node:crypto';
import type { Logger } from '../log.ts';
import { EMBEDDING_BATCH, type QwenClient } from '../qwen/client.ts';
import type { Store } from '../store/index.ts';
import { listKeys } from '../store/keys.ts';

const VECTOR_PREFIX = 'faqvec:v1:';

export interface EmbedSettings {
  model: string;
  dimensions: number;
  /** Parallel embedding requests; progress is logged after each round of `concurrency × 10` texts. */
  concurrency: number;
}

/** Store key of one phrasing's vector: a hash of model, dimensions and text (a change in any re-embeds). */
export function vectorKey(model: string, dimensions: number, text: string): string {
  const hash = createHash('sha256').update(`${model}\n${dimensions}\n${text}`).digest('hex');
  return `${VECTOR_PREFIX}${hash}`;
}

/** Float32 bytes as base64: a quarter of the JSON size, and exact. */
function encode(v: ArrayLike<number>): string {
  return Buffer.from(Float32Array.from(v).buffer).toString('base64');
}

function decode(s: unknown, dimensions: number): Float32Array | undefined {
  if (typeof s !== 'string') return undefined;
  const buf = Buffer.from(s, 'base64');
  if (buf.byteLength !== dimensions * 4) return undefined;
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/**
 * Vectors for `texts` (deduplicated), from the store where cached, else from the embedding model (then
 * cached). Returns each text's vector and how many were embedded now.
 */
export async function embedCached(
  texts: string[],
  deps: { store: Store; qwen: QwenClient; log: Logger; settings: EmbedSettings; signal?: AbortSignal },
): Promise<{ vectors: Map<string, Float32Array>; embedded: number }> {
  const { store, qwen, log, settings } = deps;
  const unique = [...new Set(texts)];
  const keys = unique.map((t) => vectorKey(settings.model, settings.dimensions, t));
  const cached = unique.length ? await store.getMany<string>(keys) : [];
  const vectors = new Map<string, Float32Array>();
  const missing: Array<{ text: string; key: string }> = [];
  unique.forEach((text, i) => {
    const v = decode(cached[i], settings.dimensions);
    if (v) vectors.set(text, v);
    else missing.push({ text, key: keys[i] ?? '' });
  });
  if (missing.length === 0) return { vectors, embedded: 0 };
  log.info(
    { total: unique.length, cached: unique.length - missing.length, toEmbed: missing.length },
    'faq: embedding phrasings',
  );
  const round = EMBEDDING_BATCH * Math.max(1, settings.concurrency);
  for (let i = 0; i < missing.length; i += round) {
    const slice = missing.slice(i, i + round);
    const got = await qwen.embed(
      slice.map((m) => m.text),
      deps.signal,
    );
    await store.setMany(
      slice.map((m, j) => {
        const v = Float32Array.from(got[j] ?? []);
        vectors.set(m.text, v);
        return { key: m.key, value: encode(v) };
      }),
    );
    log.info({ done: Math.min(i + round, missing.length), of: missing.length }, 'faq: embedding progress');
  }
  return { vectors, embedded: missing.length };
}

/**
 * Deletes the stored vectors of every phrasing that is not in `texts` (the whole FAQ just indexed):
 * entries removed or reworded, and vectors of another embedding model or size. Without this they
 * stayed in the store forever. Returns how many were deleted.
 */
export async function pruneVectors(
  texts: string[],
  deps: { store: Store; log: Logger; settings: Pick<EmbedSettings, 'model' | 'dimensions'> },
): Promise<number> {
  const { store, settings } = deps;
  const stored = await listKeys(store, VECTOR_PREFIX);
  if (!stored) return 0;
  const keep = new Set(texts.map((t) => vectorKey(settings.model, settings.dimensions, t)));
  const stale = stored.filter((key) => !keep.has(key));
  for (let i = 0; i < stale.length; i += 500) await store.deleteMany(stale.slice(i, i + 500));
  if (stale.length) deps.log.info({ deleted: stale.length }, 'faq: vectors of removed phrasings deleted');
  return stale.length;
}
