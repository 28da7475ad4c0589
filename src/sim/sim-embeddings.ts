/**
 * Deterministic "semantic" embeddings for the simulator: hashed features of lowercase word stems and
 * CJK character bigrams, L2-normalised. Texts that share words land close together, so FAQ tests can
 * check ranking by meaning without a real model.
 */
const STOP = new Set([
  'the',
  'a',
  'an',
  'to',
  'of',
  'is',
  'do',
  'i',
  'my',
  'how',
  'can',
  'what',
  'in',
  'on',
  'for',
  'and',
  'me',
  'you',
]);

export function features(text: string): string[] {
  const out: string[] = [];
  const lower = text.toLowerCase();
  for (const word of lower.match(/[a-z0-9]+/g) ?? []) {
    if (STOP.has(word)) continue;
    out.push(`w:${stem(word)}`);
  }
  const cjk = [...lower].filter((c) => /\p{Script=Han}/u.test(c));
  for (let i = 0; i < cjk.length; i++) {
    out.push(`c:${cjk[i]}`);
    if (i + 1 < cjk.length) out.push(`b:${cjk[i]}${cjk[i + 1]}`);
  }
  return out;
}

function stem(word: string): string {
  return word.replace(/(ing|ed|es|s)$/, '') || word;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export function embedText(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0);
  const feats = features(text);
  if (feats.length === 0) feats.push(`raw:${text}`);
  for (const f of feats) {
    const h = hash(f);
    v[h % dimensions] = (v[h % dimensions] ?? 0) + ((h >>> 16) & 1 ? 1 : -1);
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}
