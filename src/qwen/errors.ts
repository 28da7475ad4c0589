import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { type Audience, type CommandSpeller, type Locale, t } from '../i18n.ts';
import type { Usage } from './client.ts';

export type QwenErrorCode =
  | 'rate_limited'
  /** Our own queue for the account's rate is full: nothing was sent. */
  | 'queue_full'
  | 'quota_exhausted'
  | 'moderated'
  | 'auth'
  | 'overdue'
  | 'model_unavailable'
  /** HTTP 404 for the endpoint itself (not for a model): the base URL's path is wrong. */
  | 'endpoint_not_found'
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
  /** The base URL called, without credentials or query (set by the client): named in operator lines. */
  baseUrl: string | undefined;

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

  /**
   * The line shown for this failure. Users in a chat get what they can do; the operator (the terminal
   * user, who set the key and the URL) gets what to check: the URL called and the setting involved.
   */
  userMessage(locale: Locale, audience: Audience = 'user', spell?: CommandSpeller): string {
    const operatorKey = audience === 'operator' ? this.operatorKey() : undefined;
    if (operatorKey) {
      return t(locale, operatorKey, {
        url: this.baseUrl ?? '?',
        status: [this.status, this.providerCode].filter(Boolean).join(' '),
      });
    }
    return t(locale, `error.${this.code}`, { model: this.model ?? '' }, spell);
  }

  private operatorKey() {
    if (this.code === 'auth') return 'operator.auth' as const;
    if (this.code === 'endpoint_not_found') return 'operator.endpoint_not_found' as const;
    if (this.code === 'network') {
      const cause = systemErrorCode(this.cause);
      if (cause === 'ECONNREFUSED') return 'operator.connection_refused' as const;
      if (cause === 'ENOTFOUND' || cause === 'EAI_AGAIN') return 'operator.host_not_found' as const;
    }
    return undefined;
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
      baseUrl: this.baseUrl,
    };
  }
}

/** The errno code (ECONNREFUSED…) somewhere down a chain of causes (the SDK wraps fetch's, which wraps the socket's). */
function systemErrorCode(err: unknown): string | undefined {
  for (let cur = err, depth = 0; cur && depth < 6; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A URL fit for a log or an error line: no user, password, query or fragment. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
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
  // A model DashScope does not offer is a 404 too, but one that says so; any other 404 is the path.
  if (status === 404 && !c.startsWith('model_not') && !/\bmodel\b/i.test(message))
    return 'endpoint_not_found';
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
