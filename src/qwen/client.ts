import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { Logger } from '../log.ts';
import { QwenError, safeUrl, toQwenError } from './errors.ts';
import type { Grant, ModelLimits } from './limits.ts';
import { countCacheMarkers, toUsage } from './usage.ts';

export type ChatMessage = ChatCompletionMessageParam;
export type ChatTool = ChatCompletionTool;

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  /** Prompt tokens served from DashScope's context cache (part of promptTokens, billed at a lower rate). */
  cachedTokens: number;
  /**
   * Of cachedTokens, those read from the explicit cache (the request carried `cache_control` markers;
   * explicit and implicit caching never mix in one request): billed at 10 % of the input price.
   */
  explicitCachedTokens?: number;
  /** Prompt tokens written to the explicit cache (`cache_creation_input_tokens`): billed at 125 %. */
  cacheCreationTokens?: number;
  totalTokens: number;
  /** Counted by us, not reported by DashScope (a stopped or failed stream sends no usage chunk). */
  estimated?: boolean;
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number | null;
  enableThinking?: boolean;
  thinkingBudget?: number;
  enableSearch?: boolean;
  tools?: ChatTool[];
  signal?: AbortSignal;
  /** Tokens this call is expected to cost (prompt plus output), taken from the model's TPM before it is sent. */
  estimatedTokens?: number;
  /** Told the place in the rate queue while this call waits there (null once it goes). */
  onQueued?: (ahead: number | null) => void;
  /** Failures the caller has a better plan for than retrying (another model): thrown at once. */
  giveUpOn?: (err: QwenError) => boolean;
}

export type StreamEvent =
  | { type: 'reasoning'; text: string }
  | { type: 'text'; text: string }
  | { type: 'retry'; attempt: number; error: QwenError; delayMs: number }
  | { type: 'done'; result: ChatResult };

export interface ChatResult {
  text: string;
  reasoning: string;
  finishReason: string | null;
  usage: Usage | null;
  toolCalls: ToolCall[];
  model: string;
  requestId: string | undefined;
}

export interface QwenClientOptions {
  apiKey: string;
  baseUrl: string;
  firstTokenTimeoutMs: number;
  totalTimeoutMs: number;
  retries: number;
  retryBaseDelayMs: number;
  embeddingModel: string;
  embeddingDimensions: number;
  embeddingConcurrency: number;
  log?: Logger;
  /** Account-wide rate limits every chat and embedding call takes capacity from first. */
  limits?: ModelLimits;
  /** Replaces setTimeout-based waiting between retries (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** DashScope limit: at most 10 inputs per embeddings request. */
export const EMBEDDING_BATCH = 10;

/**
 * The longest `Retry-After` worth waiting out before the first token: a person is watching "…". When
 * DashScope asks for longer, the call fails at once with the busy line instead of hanging.
 */
export const MAX_RETRY_AFTER_MS = 30_000;

/**
 * How long to wait before attempt `attempt + 1`, or undefined when it is not worth another attempt: the
 * provider's Retry-After when it gave one (never less than our backoff), else jittered exponential backoff.
 */
export function retryDelay(err: QwenError, attempt: number, baseMs: number): number | undefined {
  const backoff = Math.round(baseMs * 2 ** attempt * (0.8 + Math.random() * 0.4));
  if (err.retryAfterMs === undefined) return backoff;
  if (err.retryAfterMs > MAX_RETRY_AFTER_MS) return undefined;
  return Math.max(err.retryAfterMs, Math.round(baseMs * 2 ** attempt * 0.8));
}

/** Why the /model check did not let a switch through. */
export interface ProbeFailure {
  kind: 'refused' | 'unchecked';
  why: string;
}

export class QwenClient {
  readonly sdk: OpenAI;
  private readonly opts: QwenClientOptions;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly safeBaseUrl: string;

  constructor(opts: QwenClientOptions) {
    this.opts = opts;
    // Our own retry loop knows whether a token was already shown; the SDK's would replay blindly.
    this.sdk = new OpenAI({
      apiKey: opts.apiKey,
      baseURL: opts.baseUrl,
      maxRetries: 0,
      timeout: opts.totalTimeoutMs,
    });
    this.sleep = opts.sleep ?? abortableSleep;
    this.safeBaseUrl = safeUrl(opts.baseUrl);
  }

  /** The account-wide rate limiter calls wait in (undefined: calls go out at once). */
  get limits(): ModelLimits | undefined {
    return this.opts.limits;
  }

  /**
   * Streams one answer. Retries (with backoff) only while nothing has been yielded; once a token is out,
   * a failure is thrown as a QwenError and the caller keeps what it already showed.
   */
  async *streamChat(req: ChatRequest): AsyncGenerator<StreamEvent, ChatResult> {
    for (let attempt = 0; ; attempt++) {
      const state = { yielded: false };
      let grant: Grant | undefined;
      try {
        grant = await this.opts.limits?.acquire(req.model, {
          tokens: req.estimatedTokens ?? estimateRequestTokens(req),
          signal: req.signal,
          onQueued: req.onQueued,
        });
        const result = yield* this.streamOnce(req, state);
        if (result.usage) grant?.settle(result.usage.totalTokens);
        return result;
      } catch (raw) {
        const err = this.toError(raw, req.model);
        if (err.partial?.usage) grant?.settle(err.partial.usage.totalTokens);
        const paused = this.honourRetryAfter(err, req.model);
        if (state.yielded || !err.retryable || attempt >= this.opts.retries || req.signal?.aborted) throw err;
        if (req.giveUpOn?.(err)) throw err;
        // The limiter now holds every call to this model until DashScope's Retry-After has passed.
        const delayMs = paused ? 0 : retryDelay(err, attempt, this.opts.retryBaseDelayMs);
        if (delayMs === undefined) throw err;
        this.opts.log?.warn(
          { err: err.toLog(), attempt: attempt + 1, delayMs },
          'qwen call failed before the first token; retrying',
        );
        yield { type: 'retry', attempt: attempt + 1, error: err, delayMs };
        await this.sleep(delayMs, req.signal).catch(() => {
          throw new QwenError('aborted', 'request aborted', { model: req.model });
        });
      }
    }
  }

  private async *streamOnce(
    req: ChatRequest,
    state: { yielded: boolean },
  ): AsyncGenerator<StreamEvent, ChatResult> {
    const controller = new AbortController();
    let timedOut: 'first' | 'total' | null = null;
    const onAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (req.signal?.aborted) controller.abort(req.signal.reason);
    const totalTimer = setTimeout(() => {
      timedOut = 'total';
      controller.abort();
    }, this.opts.totalTimeoutMs);
    let firstTimer: NodeJS.Timeout | undefined = setTimeout(() => {
      timedOut = 'first';
      controller.abort();
    }, this.opts.firstTokenTimeoutMs);
    const clearFirst = () => {
      if (firstTimer) clearTimeout(firstTimer);
      firstTimer = undefined;
    };

    const result: ChatResult = {
      text: '',
      reasoning: '',
      finishReason: null,
      usage: null,
      toolCalls: [],
      model: req.model,
      requestId: undefined,
    };
    let opened = false;
    const explicitCache = countCacheMarkers(req.messages) > 0;
    try {
      const body = {
        model: req.model,
        messages: req.messages,
        stream: true as const,
        stream_options: { include_usage: true },
        // DashScope replaced max_tokens with max_completion_tokens in compatible mode (2026).
        ...(req.maxTokens ? { max_completion_tokens: req.maxTokens } : {}),
        ...(req.temperature != null ? { temperature: req.temperature } : {}),
        ...(req.tools?.length ? { tools: req.tools } : {}),
        // DashScope extensions travel as top-level JSON keys; the SDK passes unknown keys through.
        ...(req.enableThinking !== undefined ? { enable_thinking: req.enableThinking } : {}),
        ...(req.enableThinking && req.thinkingBudget ? { thinking_budget: req.thinkingBudget } : {}),
        ...(req.enableSearch ? { enable_search: true } : {}),
      };
      const { data: stream, response } = await this.sdk.chat.completions
        .create(body, { signal: controller.signal })
        .withResponse();
      opened = true;
      result.requestId = response.headers.get('x-request-id') ?? undefined;
      const toolParts = new Map<number, ToolCall>();
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        if (chunk.usage) result.usage = toUsage(chunk.usage, explicitCache);
        for (const choice of chunk.choices ?? []) {
          const delta = choice.delta as ChatCompletionChunk.Choice.Delta & {
            reasoning_content?: string | null;
          };
          if (delta?.reasoning_content) {
            clearFirst();
            result.reasoning += delta.reasoning_content;
            state.yielded = true;
            yield { type: 'reasoning', text: delta.reasoning_content };
          }
          if (delta?.content) {
            clearFirst();
            result.text += delta.content;
            state.yielded = true;
            yield { type: 'text', text: delta.content };
          }
          for (const tc of delta?.tool_calls ?? []) {
            clearFirst();
            const part = toolParts.get(tc.index) ?? { id: '', name: '', arguments: '' };
            if (tc.id) part.id = tc.id;
            if (tc.function?.name) part.name += tc.function.name;
            if (tc.function?.arguments) part.arguments += tc.function.arguments;
            toolParts.set(tc.index, part);
          }
          if (choice.finish_reason) result.finishReason = choice.finish_reason;
        }
      }
      // The SDK ends iteration quietly when the request is aborted or the connection drops mid-stream:
      // an answer without a finish_reason never completed.
      if (controller.signal.aborted) throw controller.signal.reason ?? new Error('aborted');
      if (result.finishReason === null) {
        throw new QwenError('network', 'the stream ended before the answer was complete', {
          model: req.model,
        });
      }
      result.toolCalls = [...toolParts.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
      return result;
    } catch (err) {
      const failure = this.failure(err, req, timedOut);
      const { text, reasoning, usage } = result;
      failure.partial = { opened, text, reasoning, usage };
      throw failure;
    } finally {
      clearFirst();
      clearTimeout(totalTimer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Feeds a 429's Retry-After into the limiter; true when the limiter now does the waiting. */
  private honourRetryAfter(err: QwenError, model: string): boolean {
    if (!this.opts.limits || err.status !== 429 || err.retryAfterMs === undefined) return false;
    if (err.retryAfterMs > MAX_RETRY_AFTER_MS) return false;
    this.opts.limits.pause(model, err.retryAfterMs);
    return true;
  }

  /** A QwenError that names the base URL called (operators are told which URL failed). */
  private toError(err: unknown, model: string): QwenError {
    const qe = toQwenError(err, model);
    qe.baseUrl ??= this.safeBaseUrl;
    return qe;
  }

  private failure(err: unknown, req: ChatRequest, timedOut: 'first' | 'total' | null): QwenError {
    if (timedOut) {
      const what = timedOut === 'first' ? 'no token within' : 'answer not finished within';
      const ms = timedOut === 'first' ? this.opts.firstTokenTimeoutMs : this.opts.totalTimeoutMs;
      return new QwenError('timeout', `${what} ${ms} ms`, { model: req.model, cause: err });
    }
    if (req.signal?.aborted)
      return new QwenError('aborted', 'request aborted', { model: req.model, cause: err });
    return this.toError(err, req.model);
  }

  /**
   * One tiny streamed call before /model switches. Resolves to undefined only when the model answered;
   * otherwise to why the switch is refused (shown to the user): a 403/404 means DashScope does not offer
   * the model to this account; anything else (timeout, 5xx, 429, a bad key) means it could not be checked
   * now — the switch is refused too (the conversation keeps a model known to work) and the line says so.
   */
  /**
   * The /model switch check: undefined when the model answered; `refused` when DashScope says it is not
   * available (403/404); `unchecked` when the check itself failed (timeout, 5xx, 429, key) — say so, keep
   * the current model, and let the user try again.
   */
  async probe(model: string): Promise<ProbeFailure | undefined> {
    try {
      const stream = this.streamChat({ model, messages: [{ role: 'user', content: 'ping' }], maxTokens: 1 });
      for (let n = await stream.next(); !n.done; n = await stream.next()) if (n.value.type === 'text') break;
      await stream.return(undefined as never);
      return undefined;
    } catch (raw) {
      const err = this.toError(raw, model);
      const what = [err.status, err.providerCode].filter(Boolean).join(' ') || err.code;
      if (err.status === 403 || err.status === 404) return { kind: 'refused', why: what };
      this.opts.log?.warn({ err: err.toLog() }, 'model switch check failed');
      return { kind: 'unchecked', why: err.status ? what : err.code };
    }
  }

  /** Embeds texts in batches of 10 with bounded concurrency; vectors come back in input order. */
  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const batches: string[][] = [];
    for (let i = 0; i < texts.length; i += EMBEDDING_BATCH) batches.push(texts.slice(i, i + EMBEDDING_BATCH));
    const out: number[][][] = new Array(batches.length);
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const index = next++;
        out[index] = await this.embedBatch(batches[index] ?? [], signal);
      }
    };
    const workers = Math.min(this.opts.embeddingConcurrency, batches.length);
    await Promise.all(Array.from({ length: workers }, worker));
    return out.flat();
  }

  private async embedBatch(input: string[], signal?: AbortSignal): Promise<number[][]> {
    const model = this.opts.embeddingModel;
    const tokens = input.reduce((n, text) => n + Math.ceil(text.length / 3), 0);
    for (let attempt = 0; ; attempt++) {
      try {
        const grant = await this.opts.limits?.acquire(model, { tokens, signal });
        const res = await this.sdk.embeddings.create(
          { model, input, dimensions: this.opts.embeddingDimensions, encoding_format: 'float' },
          { signal },
        );
        if (res.usage) grant?.settle(res.usage.total_tokens);
        return [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      } catch (raw) {
        const err = this.toError(raw, model);
        const delayMs = this.honourRetryAfter(err, model)
          ? 0
          : retryDelay(err, attempt, this.opts.retryBaseDelayMs);
        if (!err.retryable || attempt >= this.opts.retries || delayMs === undefined) throw err;
        await this.sleep(delayMs, signal);
      }
    }
  }
}

/** Before the prompt builder's figure is known: about 3 characters a token, plus the output allowed. */
function estimateRequestTokens(req: ChatRequest): number {
  return Math.ceil(JSON.stringify(req.messages).length / 3) + Math.min(req.maxTokens ?? 1024, 1024);
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
