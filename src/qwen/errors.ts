import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { type Locale, t } from '../i18n.ts';
import type { Usage } from './client.ts';

export type QwenErrorCode =
  | 'rate_limited'
  | 'quota_exhausted'
  | 'moderated'
  | 'auth'
  | 'overdue'
  | 'model_unavailable'
  | 'context_too_long'
  | 'invalid_request'
  | 'timeout'
  | 'server'
  | 'network'
  | 'aborted';

/** What a failed call had received when it failed: the basis of what DashScope bills for it. */
export interface StreamPartial {
  /** DashScope accepted the request (HTTP 200, the stream opened): the prompt was processed and is billed. */
  opened: boolean;
  text: string;
  reasoning: string;
  /** The usage chunk, when it arrived before the failure. */
  usage: Usage | null;
}

/** Every failure of a model call, with a stable code, the provider's details, and a line for users. */
export class QwenError extends Error {
  readonly code: QwenErrorCode;
  readonly status: number | undefined;
  readonly providerCode: string | undefined;
  readonly requestId: string | undefined;
  readonly model: string | undefined;
  /** How long the provider asked us to wait (`retry-after-ms` / `Retry-After`), when it said. */
  readonly retryAfterMs: number | undefined;
  /** Set by the client on failures of a chat stream; undefined for calls that never streamed. */
  partial: StreamPartial | undefined;

  constructor(
    code: QwenErrorCode,
    message: string,
    details: {
      status?: number;
      providerCode?: string;
      requestId?: string;
      model?: string;
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
    this.name = 'QwenError';
    this.code = code;
    this.status = details.status;
    this.providerCode = details.providerCode;
    this.requestId = details.requestId;
    this.model = details.model;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** Worth another attempt before any token was shown (never after). */
  get retryable(): boolean {
    if (this.code === 'rate_limited' || this.code === 'server' || this.code === 'network') return true;
    // 503 capacity and 500 RequestTimeOut from the provider: retried with backoff too.
    return this.status !== undefined && this.status >= 500;
  }

  userMessage(locale: Locale): string {
    return t(locale, `error.${this.code}`, { model: this.model ?? '' });
  }

  /** Fields for a structured log line. */
  toLog(): Record<string, unknown> {
    return {
      code: this.code,
      status: this.status,
      providerCode: this.providerCode,
      requestId: this.requestId,
      model: this.model,
      retryAfterMs: this.retryAfterMs,
      message: this.message,
    };
  }
}

/** Maps anything thrown by the openai SDK (or our timers) to a QwenError. */
export function toQwenError(err: unknown, model?: string): QwenError {
  if (err instanceof QwenError) return err;
  if (err instanceof APIUserAbortError)
    return new QwenError('aborted', 'request aborted', { model, cause: err });
  if (err instanceof APIConnectionError) {
    return new QwenError('network', err.message || 'connection error', { model, cause: err });
  }
  if (err instanceof APIError) {
    const status = err.status;
    const providerCode = typeof err.code === 'string' ? err.code : undefined;
    const body = (err.error ?? {}) as { message?: string };
    const requestId = err.requestID ?? undefined;
    const message = body.message ?? err.message;
    const retryAfterMs = retryAfter(err.headers);
    const details = { status, providerCode, requestId, model, retryAfterMs, cause: err };
    return new QwenError(classify(status, providerCode, message), message, details);
  }
  if (err instanceof Error && err.name === 'AbortError')
    return new QwenError('aborted', 'request aborted', { model, cause: err });
  return new QwenError('network', err instanceof Error ? err.message : String(err), { model, cause: err });
}

/** `retry-after-ms` (non-standard, the SDK's own) or `Retry-After` in seconds or as an HTTP date. */
function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function classify(status: number | undefined, code: string | undefined, message: string): QwenErrorCode {
  const c = (code ?? '').toLowerCase();
  if (c === 'data_inspection_failed' || c.includes('inspection')) return 'moderated';
  if (c === 'arrearage') return 'overdue';
  if (status === 401 || c === 'invalid_api_key') return 'auth';
  // The account's quota is spent: waiting a few seconds will not bring it back (issue 10).
  if (c === 'insufficient_quota') return 'quota_exhausted';
  if (status === 429 || c.startsWith('limit_') || c.includes('throttl')) return 'rate_limited';
  if (status === 403 || status === 404 || c.includes('accessdenied') || c.startsWith('model_not'))
    return 'model_unavailable';
  if (status === 503 || c === 'modelservingerror' || c === 'modelunavailable') return 'model_unavailable';
  if (c === 'requesttimeout' || status === 504 || status === 408) return 'timeout';
  if (/range of input length|maximum context length|input length|too long/i.test(message))
    return 'context_too_long';
  if (status === 400) return 'invalid_request';
  // An error frame inside a stream has no HTTP status: the server failed mid-answer.
  return 'server';
}
