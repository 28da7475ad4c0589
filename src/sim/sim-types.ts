/** What the DashScope simulator takes, records and answers with: its options, scripted steps and handle. */
import type { SimExplicitCache } from './sim-cache.ts';
import type { SimFiles } from './sim-files.ts';
import type { SimModelLimit, SimRefusals } from './sim-limits.ts';

export interface SimError {
  status: number;
  code: string;
  message?: string;
  type?: string;
  /** Extra response headers (e.g. `retry-after`). */
  headers?: Record<string, string>;
}

/** What the simulator does with the next chat request. Unset fields take the defaults. */
export interface ChatStep {
  /** Answer text (default: the responder's answer). */
  text?: string;
  /** Reasoning text streamed before the answer (default: some when thinking is on). */
  reasoning?: string;
  /** Answer with an HTTP error instead. */
  error?: SimError;
  /** Characters per content chunk (default 6). */
  chunkChars?: number;
  /** Delay before the first chunk, after the headers (ms). */
  firstTokenDelayMs?: number;
  /** Delay between chunks (ms). */
  chunkDelayMs?: number;
  /** Destroy the connection after this many content chunks. */
  cutAfterChunks?: number;
  /** Send an in-stream error frame after this many content chunks. */
  errorAfterChunks?: number;
  errorFrame?: Omit<SimError, 'status'>;
  /** Stop sending (without closing) after this many content chunks. */
  stallAfterChunks?: number;
  /** Pause after this many content chunks until `hold` settles (a test decides when the answer goes on). */
  holdAfterChunks?: number;
  hold?: Promise<unknown>;
  /** Write the SSE bytes in small random pieces, splitting lines and UTF-8 characters. */
  splitBytes?: boolean;
  /** Answer with tool calls instead of text. */
  toolCalls?: Array<{ name: string; arguments: string }>;
  finishReason?: 'stop' | 'length';
  /** Report this many prompt tokens as served from the context cache (`prompt_tokens_details`). */
  cachedTokens?: number;
  /** Apply this step only to a request it matches (default: the next request). */
  match?: (body: ChatBody) => boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** When the request's body had been read, and when its first content chunk was written (ms, this process's clock). */
  receivedAt?: number;
  firstContentAt?: number;
}

export interface SimOptions {
  /** When set, any other bearer token gets 401 invalid_api_key. */
  apiKey?: string;
  /** Models the simulator knows; others get 404 model_not_found. */
  models?: string[];
  /** Default answer for requests without a scripted step. */
  responder?: (body: ChatBody) => string;
  /** Moderation triggers (default SIM_INPUT_TRIGGER / SIM_OUTPUT_TRIGGER); null switches one off. */
  moderation?: { input?: string | null; output?: string | null };
  /**
   * Stream like a real model (the demo): about one token (4 characters) per chunk at this rate, after a
   * first-token delay. Off by default, so tests run at full speed; a step's own timings win.
   */
  pace?: SimPace;
  /** Per-model account limits (RPM, RPS = RPM/60, TPM), refused with 429s as DashScope does. */
  rateLimits?: Record<string, SimModelLimit>;
  /** Send `Retry-After` with those refusals (default true). */
  retryAfter?: boolean;
  /** The clock the rate windows and cache lifetimes are measured by (tests share theirs with the bot). */
  now?: () => number;
  /** false: no Files API in this "region" (every /files path answers 404). */
  files?: boolean;
}

export interface SimPace {
  tokensPerSecond: number;
  firstTokenDelayMs: number;
}

export interface ChatBody {
  model: string;
  messages: Array<{ role: string; content: unknown; name?: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  enable_thinking?: boolean;
  [key: string]: unknown;
}

export interface DashScopeSim {
  /** Base URL to give the bot (ends in /compatible-mode/v1). */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Chat requests only, in order. */
  chatRequests(): ChatBody[];
  /** Queue behaviour for the next chat requests, one step each. */
  script(...steps: ChatStep[]): void;
  setResponder(fn: (body: ChatBody) => string): void;
  /** 429s sent for the account limits (`rateLimits`), by kind. */
  refusals: SimRefusals;
  /** The explicit context cache (prefixes marked with `cache_control`). */
  cache: SimExplicitCache;
  /** The Files API (qwen-long documents): what was uploaded and deleted. */
  files: SimFiles;
  close(): Promise<void>;
}
