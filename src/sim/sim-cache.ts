/**
 * DashScope's explicit context cache, as the simulator plays it (Model Studio "Context cache"): content
 * parts marked `cache_control: {type: "ephemeral"}` end a prefix that is cached for 5 minutes (renewed
 * on each hit) once it reaches 1,024 tokens; a later request whose prefix matches a cached one reads
 * it — DashScope looks back up to 20 content blocks from each marker. At most 4 markers per request.
 * The prefix includes the model and the tool schemas (they precede the messages); how content is
 * spelled (a string or an array of text parts, with or without a marker) does not change it.
 */
import { createHash } from 'node:crypto';

export const SIM_CACHE_TTL_MS = 5 * 60_000;
export const SIM_CACHE_MIN_TOKENS = 1024;
export const SIM_CACHE_MAX_MARKERS = 4;
export const SIM_CACHE_LOOKBACK_BLOCKS = 20;

export interface CacheRequest {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  tools?: unknown;
}

export interface CacheOutcome {
  /** The request carried markers: explicit caching applies (implicit does not, in the same request). */
  explicit: boolean;
  cachedTokens: number;
  creationTokens: number;
}

interface Block {
  tokens: number;
  marked: boolean;
  /** Hash of everything up to and including this block. */
  hash: string;
}

/** The 400 DashScope answers when a request carries more than 4 markers. */
export function tooManyMarkers(found: number) {
  return {
    status: 400,
    code: 'invalid_parameter_error',
    message: `A maximum of ${SIM_CACHE_MAX_MARKERS} blocks with cache_control may be provided. Found ${found}.`,
  };
}

export class SimExplicitCache {
  private readonly entries = new Map<string, { tokens: number; expiresAt: number }>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Markers in a request (the 4-marker rule is checked before anything else is done with it). */
  static markers(req: CacheRequest): number {
    return blocksOf(req).filter((b) => b.marked).length;
  }

  /** Reads and writes the cache for one request; call only for requests that passed the marker check. */
  apply(req: CacheRequest): CacheOutcome {
    const blocks = blocksOf(req);
    const marks = blocks.flatMap((b, i) => (b.marked ? [i] : []));
    if (!marks.length) return { explicit: false, cachedTokens: 0, creationTokens: 0 };
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);

    let hit: Block | undefined;
    for (const mark of marks) {
      for (let i = mark; i >= 0 && i >= mark - SIM_CACHE_LOOKBACK_BLOCKS; i--) {
        const block = blocks[i];
        if (!block || !this.entries.has(block.hash)) continue;
        if (!hit || block.tokens > hit.tokens) hit = block;
        break;
      }
    }
    if (hit) this.entries.set(hit.hash, { tokens: hit.tokens, expiresAt: now + SIM_CACHE_TTL_MS });

    let covered = hit?.tokens ?? 0;
    let creationTokens = 0;
    for (const mark of marks) {
      const block = blocks[mark];
      if (!block || block.tokens < SIM_CACHE_MIN_TOKENS) continue;
      if (!this.entries.has(block.hash)) creationTokens += Math.max(0, block.tokens - covered);
      this.entries.set(block.hash, { tokens: block.tokens, expiresAt: now + SIM_CACHE_TTL_MS });
      covered = Math.max(covered, block.tokens);
    }
    return { explicit: true, cachedTokens: hit?.tokens ?? 0, creationTokens };
  }

  /** Live entries (tests). */
  get size(): number {
    const now = this.now();
    return [...this.entries.values()].filter((e) => e.expiresAt > now).length;
  }
}

/** The request's content blocks with the running token count and prefix hash at each. */
function blocksOf(req: CacheRequest): Block[] {
  const hash = createHash('sha256')
    .update(req.model)
    .update(JSON.stringify(req.tools ?? null));
  let tokens = req.tools ? Math.ceil(JSON.stringify(req.tools).length / 4) : 0;
  const blocks: Block[] = [];
  for (const message of req.messages) {
    const parts = Array.isArray(message.content)
      ? (message.content as Array<Record<string, unknown>>)
      : [{ type: 'text', text: typeof message.content === 'string' ? message.content : '' }];
    parts.forEach((part, i) => {
      const { cache_control, ...content } = part;
      const spelled = JSON.stringify(content.type === 'text' ? { text: content.text } : content);
      hash.update(`${i === 0 ? message.role : '+'}\u0000${spelled}\u0000`);
      // Never more than the request's prompt_tokens (JSON of the messages / 4) counts for them.
      tokens += Math.ceil(spelled.length / 4) + (i === 0 ? 2 : 0);
      blocks.push({ tokens, marked: Boolean(cache_control), hash: hash.copy().digest('hex') });
    });
  }
  return blocks;
}

/** The `usage` object of an answer: explicit cache figures when the request had markers. */
export function simUsage(
  promptTokens: number,
  completion: { text: number; reasoning: number },
  cache: CacheOutcome,
  /** Implicit cache hits a test scripted (`ChatStep.cachedTokens`). */
  implicitCached = 0,
) {
  const cached = Math.min(cache.explicit ? cache.cachedTokens : implicitCached, promptTokens);
  const completionTokens = completion.text + completion.reasoning;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens_details: { reasoning_tokens: completion.reasoning },
    prompt_tokens_details: cache.explicit
      ? {
          cached_tokens: cached,
          cache_creation_input_tokens: Math.min(cache.creationTokens, promptTokens - cached),
        }
      : { cached_tokens: cached },
  };
}
