/** The simulator's wire details: error bodies, SSE chunking and byte splitting, the embeddings endpoint. */
import type { ServerResponse } from 'node:http';
import { embedText } from './sim-embeddings.ts';
import type { ChatStep, SimError, SimPace } from './sim-types.ts';

const EMBEDDING_DIMS: Record<string, number[]> = {
  'text-embedding-v4': [2048, 1536, 1024, 768, 512, 256, 128, 64],
  'text-embedding-v3': [1024, 768, 512],
};

export function embeddings(body: Record<string, unknown>, res: ServerResponse, requestId: string) {
  const model = String(body.model ?? '');
  const dims = EMBEDDING_DIMS[model];
  if (!dims)
    return sendError(
      res,
      { status: 404, code: 'model_not_found', message: `Model not exist: ${model}` },
      requestId,
    );
  const input = typeof body.input === 'string' ? [body.input] : (body.input as unknown[]);
  if (
    !Array.isArray(input) ||
    input.length === 0 ||
    input.some((s) => typeof s !== 'string' || s.length === 0)
  ) {
    return sendError(
      res,
      { status: 400, code: 'InvalidParameter', message: 'input.texts should be non-empty strings' },
      requestId,
    );
  }
  if (input.length > 10) {
    return sendError(
      res,
      {
        status: 400,
        code: 'InvalidParameter',
        message: 'batch size is invalid, it should not be larger than 10.: input.contents',
      },
      requestId,
    );
  }
  if ((body.encoding_format ?? 'float') !== 'float') {
    return sendError(
      res,
      { status: 400, code: 'InvalidParameter', message: 'encoding_format only support float' },
      requestId,
    );
  }
  const dimensions = body.dimensions === undefined ? 1024 : Number(body.dimensions);
  if (!dims.includes(dimensions)) {
    return sendError(
      res,
      { status: 400, code: 'InvalidParameter', message: `dimension should be one of ${dims.join(',')}` },
      requestId,
    );
  }
  const tokens = (input as string[]).reduce((n, s) => n + countTokens(s), 0);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      data: (input as string[]).map((s, index) => ({
        embedding: embedText(s, dimensions),
        index,
        object: 'embedding',
      })),
      model,
      object: 'list',
      usage: { prompt_tokens: tokens, total_tokens: tokens },
      id: requestId,
    }),
  );
}

export function sendError(res: ServerResponse, err: SimError, requestId = 'sim-err'): void {
  res.writeHead(err.status, { 'content-type': 'application/json', ...err.headers });
  res.end(
    JSON.stringify({
      error: { message: err.message ?? err.code, type: err.type ?? err.code, param: null, code: err.code },
      request_id: requestId,
      id: requestId,
    }),
  );
}

/** Splits text into chunks of about `size` code points (never inside a surrogate pair). */
export function pieces(text: string, size: number): string[] {
  const chars = [...text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

export function countTokens(text: string): number {
  return text ? Math.max(1, Math.ceil([...text].length / 4)) : 0;
}

/** Writes SSE bytes in pseudo-random 1..7-byte pieces (seeded), so UTF-8 characters are split too. */
export function splitWriter(res: ServerResponse, seed: number): (s: string) => void {
  let state = seed * 2654435761;
  return (s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    for (let i = 0; i < bytes.length; ) {
      state = (state * 1103515245 + 12345) >>> 0;
      const n = 1 + (state % 7);
      res.write(bytes.subarray(i, i + n));
      i += n;
    }
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Chunk size and delays of one streamed answer: the step's own, else the pace's (one token a chunk), else none. */
export function streamTiming(
  step: Pick<ChatStep, 'chunkChars' | 'firstTokenDelayMs' | 'chunkDelayMs'>,
  pace?: SimPace,
): { chunkChars: number; firstTokenDelayMs: number; chunkDelayMs: number } {
  return {
    chunkChars: step.chunkChars ?? (pace ? 4 : 6),
    firstTokenDelayMs: step.firstTokenDelayMs ?? pace?.firstTokenDelayMs ?? 0,
    chunkDelayMs: step.chunkDelayMs ?? (pace ? Math.round(1000 / pace.tokensPerSecond) : 0),
  };
}

/** DashScope stops the reasoning at `thinking_budget` tokens and answers from there. */
export function withinBudget(reasoning: string, budget: unknown): string {
  if (typeof budget !== 'number' || !Number.isInteger(budget) || budget <= 0) return reasoning;
  let out = reasoning;
  while (out && countTokens(out) > budget) out = out.slice(0, Math.max(0, out.length - 4));
  return out;
}

/** Models the simulator knows unless told otherwise. */
export const DEFAULT_MODELS = [
  'qwen3-max',
  'qwen-plus',
  'qwen-flash',
  'qwen-turbo',
  'qwen-max',
  'qwen-long',
  'qwen3-235b-a22b',
  'qwen3-32b',
  'qwq-plus',
  'qwen-vl-max',
  'qwen-vl-plus',
  'qwen3-vl-plus',
  'qwen3-vl-flash',
  'qwen-mt-turbo',
  'qwen-mt-plus',
  'qwen-mt-flash',
  'qwen3-asr-flash',
];

/** The text of the last user message (the simulator's default answer echoes it). */
export function lastUserText(body: { messages: Array<{ role: string; content: unknown }> }): string {
  const last = [...body.messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  if (Array.isArray(last.content)) {
    return last.content
      .filter((p): p is { type: 'text'; text: string } => (p as { type?: string }).type === 'text')
      .map((p) => p.text)
      .join(' ');
  }
  return '';
}
