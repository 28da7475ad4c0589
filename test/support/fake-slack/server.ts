/**
 * A fake Slack on 127.0.0.1: the Web API (`/api/<method>`), private file downloads, `response_url`s for
 * slash commands and a Socket Mode websocket. It enforces per-method rate tiers (429 + Retry-After),
 * records every call, and keeps a model of each channel and thread so tests can ask what people see.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { text as readText } from 'node:stream/consumers';
import { keepBlocks } from './blocks.ts';
import {
  APP_TOKEN_METHODS,
  type FakeUser,
  METHODS,
  type MethodContext,
  type Params,
  type Result,
  SCOPES_NEEDED,
} from './methods.ts';
import { type FakeMessage, type Shown, Workspace } from './model.ts';
import { SocketModeServer } from './socket.ts';
import { VIEW_METHODS } from './views.ts';

/** Every method, with the block rules (and the blocks kept on messages) in front of the message methods. */
const HANDLERS = keepBlocks({ ...METHODS, ...VIEW_METHODS });

export interface Tier {
  max: number;
  windowMs: number;
  /** Whose budget: the whole workspace, or one channel. */
  per: 'team' | 'channel';
}

/** Published tiers (platform-facts.md): chat.update Tier 3, postMessage ~1/s per channel with bursts… */
export const DEFAULT_TIERS: Record<string, Tier> = {
  'chat.postMessage': { max: 10, windowMs: 10_000, per: 'channel' },
  'chat.update': { max: 50, windowMs: 60_000, per: 'team' },
  'chat.postEphemeral': { max: 100, windowMs: 60_000, per: 'team' },
  'chat.startStream': { max: 20, windowMs: 60_000, per: 'team' },
  'chat.appendStream': { max: 100, windowMs: 60_000, per: 'team' },
  'chat.stopStream': { max: 20, windowMs: 60_000, per: 'team' },
  'assistant.threads.setStatus': { max: 50, windowMs: 60_000, per: 'team' },
  'assistant.threads.setSuggestedPrompts': { max: 50, windowMs: 60_000, per: 'team' },
  'assistant.threads.setTitle': { max: 50, windowMs: 60_000, per: 'team' },
  'chat.delete': { max: 50, windowMs: 60_000, per: 'team' },
  'conversations.info': { max: 50, windowMs: 60_000, per: 'team' },
  'users.info': { max: 100, windowMs: 60_000, per: 'team' },
  // Apps outside the Slack Marketplace, since 2025: about one call a minute.
  'conversations.replies': { max: 1, windowMs: 60_000, per: 'team' },
  'views.open': { max: 100, windowMs: 60_000, per: 'team' },
  'conversations.history': { max: 1, windowMs: 60_000, per: 'team' },
  'auth.test': { max: 100, windowMs: 60_000, per: 'team' },
};

export interface FakeSlackOptions {
  team?: { id: string; name: string };
  bot?: { userId: string; botId: string; name: string };
  botToken?: string;
  appToken?: string;
  tiers?: Record<string, Tier>;
  /** How long a native stream stays open (reported: about 5 minutes). */
  streamTtlMs?: number;
  /** How long a native stream may go without an append before Slack closes it (reported: about 5 minutes). */
  streamIdleMs?: number;
  users?: FakeUser[];
  /** Bot scopes the installation granted (e.g. the manifest's); undefined grants everything. */
  scopes?: string[];
  /** Answer `invalid_blocks` to messages with a `context_actions` block (Slack's feedback buttons). */
  refuseContextActions?: boolean;
}

export interface Call {
  method: string;
  params: Params;
  /** What the fake answered: ok, a Slack error code, or `ratelimited` (HTTP 429). */
  outcome: string;
  at: number;
}

interface Fault {
  method: string;
  times: number;
  error?: string;
  retryAfterSec?: number;
  /** Answer with this HTTP status (a 5xx) instead of a Slack error. */
  status?: number;
  when?: (params: Params) => boolean;
}

export interface FakeFile {
  id: string;
  name: string;
  mimetype: string;
  size: number;
  url_private: string;
  url_private_download: string;
  /** `slack_audio` for a clip recorded in Slack. */
  subtype?: string;
  duration_ms?: number;
}

export class FakeSlack {
  readonly ws = new Workspace();
  readonly calls: Call[] = [];
  /** Bodies posted to slash-command response URLs, in order. */
  readonly responses: Array<{ id: string; body: Record<string, unknown> }> = [];
  readonly socket: SocketModeServer;
  readonly team: { id: string; name: string };
  readonly bot: { userId: string; botId: string; name: string };
  readonly botToken: string;
  readonly appToken: string;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly ctx: MethodContext;
  private readonly tiers: Record<string, Tier>;
  private readonly windows = new Map<string, number[]>();
  private readonly faults: Fault[] = [];
  private readonly delays: Array<{ method: string; ms: number }> = [];
  private readonly files = new Map<string, { bytes: Uint8Array; mimetype: string }>();
  private stalls = 0;
  private readonly scopes: Set<string> | undefined;
  private seq = 0;
  url = '';

  private constructor(options: FakeSlackOptions) {
    this.team = options.team ?? { id: 'T0FAKE', name: 'Fakespace' };
    this.bot = options.bot ?? { userId: 'U0BOT', botId: 'B0BOT', name: 'qwen' };
    this.botToken = options.botToken ?? 'xoxb-fake-bot-token';
    this.appToken = options.appToken ?? 'xapp-fake-app-token';
    this.tiers = options.tiers ?? DEFAULT_TIERS;
    this.scopes = options.scopes ? new Set(options.scopes) : undefined;
    const users = new Map<string, FakeUser>((options.users ?? []).map((u) => [u.id, u]));
    this.ctx = {
      ws: this.ws,
      team: this.team,
      bot: this.bot,
      users,
      streamTtlMs: options.streamTtlMs ?? 5 * 60_000,
      streamIdleMs: options.streamIdleMs ?? 5 * 60_000,
      socketUrl: () => `${this.url.replace(/^http/, 'ws')}/link?ticket=${++this.seq}`,
      now: Date.now,
      refuseContextActions: options.refuseContextActions === true,
    };
    this.server = createServer((req, res) => void this.route(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.socket = new SocketModeServer(this.server);
  }

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const fake = new FakeSlack(options);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** What to give the bot as SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  addUser(user: FakeUser): void {
    this.ctx.users.set(user.id, user);
  }

  /** The next `times` calls of `method` (matching `when`) fail with this Slack error code. */
  failNext(method: string, error: string, times = 1, when?: (params: Params) => boolean): void {
    this.faults.push({ method, times, error, when });
  }

  /** The next call of `method` is answered normally, but only after `ms` (a slow Slack). */
  delayNext(method: string, ms: number): void {
    this.delays.push({ method, ms });
  }

  /** The next file download sends its headers and half its bytes, then never finishes (a stalled CDN). */
  stallNextDownload(): void {
    this.stalls++;
  }

  /** The next `times` calls of `method` get an HTTP server error (outcome `http_<status>`). */
  serverErrorNext(method: string, status = 500, times = 1): void {
    this.faults.push({ method, times, status });
  }

  /** The next `times` calls of `method` get HTTP 429 with this Retry-After. */
  rateLimitNext(method: string, retryAfterSec: number, times = 1): void {
    this.faults.push({ method, times, retryAfterSec });
  }

  /** Makes open streams older than `ms` count as closed by Slack. */
  set streamTtlMs(ms: number) {
    this.ctx.streamTtlMs = ms;
  }

  /** Makes open streams without an append for longer than `ms` count as closed by Slack. */
  set streamIdleMs(ms: number) {
    this.ctx.streamIdleMs = ms;
  }

  addFile(name: string, mimetype: string, bytes: Uint8Array): FakeFile {
    const id = `F${++this.seq}`;
    this.files.set(id, { bytes, mimetype });
    const url = `${this.url}/files-pri/${this.team.id}-${id}/${encodeURIComponent(name)}`;
    return {
      id,
      name,
      mimetype,
      size: bytes.byteLength,
      url_private: url,
      url_private_download: `${url}?download=1`,
    };
  }

  calledMethods(): Set<string> {
    return new Set(this.calls.map((c) => c.method));
  }

  count(method: string, outcome = 'ok'): number {
    return this.calls.filter((c) => c.method === method && c.outcome === outcome).length;
  }

  thread(channel: string, threadTs: string): Shown[] {
    return this.ws.thread(channel, threadTs);
  }

  channel(channel: string): Shown[] {
    return this.ws.channel(channel);
  }

  status(channel: string, threadTs: string): string | undefined {
    return this.ws.statuses.get(`${channel}:${threadTs}`);
  }

  /** The message with this ts (to press its buttons). */
  message(channel: string, ts: string): FakeMessage | undefined {
    return this.ws.find(channel, ts);
  }

  async close(): Promise<void> {
    this.socket.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const raw = await readText(req);
    if (url.pathname.startsWith('/api/')) {
      const method = url.pathname.slice(5);
      const delay = this.delays.findIndex((d) => d.method === method);
      if (delay >= 0) {
        const [d] = this.delays.splice(delay, 1);
        await new Promise((resolve) => setTimeout(resolve, d?.ms ?? 0));
      }
      return void this.api(method, req, raw, res);
    }
    if (url.pathname.startsWith('/files-pri/')) return this.file(url.pathname, req, res);
    if (url.pathname.startsWith('/respond/')) {
      this.responses.push({
        id: url.pathname.slice(9),
        body: JSON.parse(raw || '{}') as Record<string, unknown>,
      });
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }
    res.writeHead(404).end();
  }

  private api(method: string, req: IncomingMessage, raw: string, res: ServerResponse): boolean {
    const params = parseParams(raw, req.headers['content-type'] ?? '');
    const token = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '') || String(params.token ?? '');
    const reply = (status: number, body: Result, headers: Record<string, string> = {}) => {
      this.calls.push({
        method,
        params,
        outcome: status === 429 ? 'ratelimited' : body.ok ? 'ok' : body.error,
        at: Date.now(),
      });
      res
        .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
        .end(JSON.stringify(body));
      return true;
    };
    const handler = HANDLERS[method];
    if (!handler) return reply(200, { ok: false, error: 'unknown_method' });
    const expected = APP_TOKEN_METHODS.has(method) ? this.appToken : this.botToken;
    if (!token) return reply(200, { ok: false, error: 'not_authed' });
    if (token !== expected) return reply(200, { ok: false, error: 'invalid_auth' });
    const needed = SCOPES_NEEDED[method];
    if (this.scopes && needed && !needed.some((scope) => this.scopes?.has(scope))) {
      return reply(200, {
        ok: false,
        error: 'missing_scope',
        needed: needed.join(','),
        provided: [...this.scopes].join(','),
      });
    }
    const fault = this.faults.find((f) => f.method === method && f.times > 0 && (!f.when || f.when(params)));
    if (fault) {
      fault.times--;
      if (fault.status !== undefined) {
        this.calls.push({ method, params, outcome: `http_${fault.status}`, at: Date.now() });
        res.writeHead(fault.status, { 'content-type': 'text/plain' }).end('Internal Server Error');
        return true;
      }
      if (fault.retryAfterSec !== undefined) {
        return reply(
          429,
          { ok: false, error: 'ratelimited' },
          { 'retry-after': String(fault.retryAfterSec) },
        );
      }
      return reply(200, { ok: false, error: fault.error ?? 'internal_error' });
    }
    const wait = this.overLimit(method, params);
    if (wait !== undefined)
      return reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(wait) });
    return reply(200, handler(this.ctx, params));
  }

  /** Seconds to wait when this call exceeds its tier, else undefined (and the call is counted). */
  private overLimit(method: string, params: Params): number | undefined {
    const tier = this.tiers[method];
    if (!tier) return undefined;
    const key = tier.per === 'channel' ? `${method}:${String(params.channel ?? '')}` : method;
    const now = Date.now();
    const times = (this.windows.get(key) ?? []).filter((t) => t > now - tier.windowMs);
    if (times.length >= tier.max) {
      this.windows.set(key, times);
      return Math.max(1, Math.ceil(((times[0] ?? now) + tier.windowMs - now) / 1000));
    }
    times.push(now);
    this.windows.set(key, times);
    return undefined;
  }

  private file(pathname: string, req: IncomingMessage, res: ServerResponse): void {
    const id = /^\/files-pri\/[^-]+-([^/]+)\//.exec(pathname)?.[1] ?? '';
    const file = this.files.get(id);
    this.calls.push({
      method: 'file.download',
      params: { id },
      outcome: file ? 'ok' : 'file_not_found',
      at: Date.now(),
    });
    // Slack answers a download without a valid token with its HTML sign-in page, not an error.
    const granted = !this.scopes || this.scopes.has('files:read');
    if (req.headers.authorization !== `Bearer ${this.botToken}` || !granted) {
      return void res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<html><body>Sign in to Slack</body></html>');
    }
    if (!file) return void res.writeHead(404).end();
    if (this.stalls > 0) {
      this.stalls--;
      res.writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.bytes.byteLength) });
      res.write(file.bytes.subarray(0, Math.floor(file.bytes.byteLength / 2)));
      return;
    }
    res
      .writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.bytes.byteLength) })
      .end(file.bytes);
  }
}

/** The Web API takes form bodies (nested values JSON-encoded) or JSON. */
export function parseParams(raw: string, contentType: string): Params {
  if (contentType.includes('application/json')) return raw ? (JSON.parse(raw) as Params) : {};
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    out[k] = /^[[{]/.test(v) ? tryJson(v) : v;
  }
  return out;
}

function tryJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
