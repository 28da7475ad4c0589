/**
 * The fake Discord REST API (v10) on loopback: routes the bot uses, with Discord's validation of message
 * content, per-route rate-limit buckets (X-RateLimit-* headers, 429 with retry_after) and the 3-second
 * interaction deadline. Every request is recorded in the state.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openModal } from './components.ts';
import { botMessage, replaceCommands } from './payloads.ts';
import { FakeRateLimiter } from './ratelimit.ts';
import {
  applyPings,
  type Body,
  channelApi,
  formError,
  parseBody,
  type Reply,
  readBody,
  send,
  unknown,
  validate,
} from './rules.ts';
import type { FakeChannel, FakeInteraction, FakeMessage, FakeState } from './state.ts';

export const INTERACTION_DEADLINE_MS = 3000;
const EPHEMERAL = 64;
const LOADING = 128;

interface Route {
  method: string;
  template: string;
  re: RegExp;
  handle: (params: string[], body: Body | undefined, query: URLSearchParams) => Reply;
}

export class FakeRest {
  readonly state: FakeState;
  readonly token: string;
  gatewayUrl = '';
  readonly limiter = new FakeRateLimiter();
  private readonly routes: Route[] = [];
  /** Whether the bot may read this message's content (Message Content intent rules); else it is blank. */
  contentVisible: (m: FakeMessage) => boolean = () => true;
  /** Called for each message the bot creates or edits (tests wait on it). */
  onChange: (m: FakeMessage) => void = () => {};

  constructor(state: FakeState, token: string) {
    this.state = state;
    this.token = token;
    this.defineRoutes();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    if (url.pathname.startsWith('/attachments/')) return this.serveFile(url.pathname, res);
    const path = url.pathname.replace(/^\/api(\/v\d+)?/, '');
    const method = req.method ?? 'GET';
    let body: Body | undefined;
    if (raw) {
      try {
        body = parseBody(raw, String(req.headers['content-type'] ?? ''));
      } catch {
        return send(res, 400, { message: '400: Bad Request', code: 50109 });
      }
    }
    const route = this.routes.find((r) => r.method === method && r.re.test(path));
    const record = (status: number) =>
      this.state.requests.push({
        method,
        path,
        query: url.search,
        route: route ? `${method} ${route.template}` : `${method} ?`,
        body,
        status,
        at: Date.now(),
      });
    if (!route) {
      record(404);
      return send(res, 404, { message: '404: Not Found', code: 0 });
    }
    const params = (route.re.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
    const needsAuth = !route.template.startsWith('/webhooks') && !route.template.startsWith('/interactions');
    if (needsAuth && req.headers.authorization !== `Bot ${this.token}`) {
      record(401);
      return send(res, 401, { message: '401: Unauthorized', code: 0 });
    }
    const failure = this.limiter.failure(method, route.template);
    if (failure !== undefined) {
      record(failure);
      return send(res, failure, { message: `${failure}: Internal Server Error`, code: 0 });
    }
    const headers = this.limiter.take(method, route.template, params[0] ?? '');
    if (headers.limited) {
      record(429);
      return send(
        res,
        429,
        { message: 'You are being rate limited.', retry_after: headers.retryAfter, global: false },
        headers.values,
      );
    }
    let reply: Reply;
    try {
      reply = route.handle(params, body, url.searchParams);
    } catch (err) {
      reply = { status: 500, body: { message: String(err), code: 0 } };
    }
    record(reply.status);
    send(res, reply.status, reply.body, headers.values);
  }

  private serveFile(pathname: string, res: ServerResponse): void {
    const id = pathname.split('/')[2] ?? '';
    const file = this.state.files.get(id);
    if (!file) {
      send(res, 404, { message: 'no such file' });
      return;
    }
    file.downloads++;
    res.writeHead(200, { 'content-type': file.type, 'content-length': String(file.bytes.length) });
    if (file.stalled) res.write(file.bytes.subarray(0, Math.floor(file.bytes.length / 2)));
    else res.end(file.bytes);
  }

  private add(method: string, template: string, handle: Route['handle']): void {
    const re = new RegExp(`^${template.replace(/:[a-z]+/g, '([^/]+)')}$`);
    this.routes.push({ method, template, re, handle });
  }

  private defineRoutes(): void {
    const s = this.state;
    this.add('GET', '/gateway/bot', () => ({
      status: 200,
      body: {
        url: this.gatewayUrl,
        shards: this.state.recommendedShards,
        session_start_limit: {
          total: 1000,
          remaining: 999,
          reset_after: 14_400_000,
          max_concurrency: s.maxConcurrency,
        },
      },
    }));
    this.add('GET', '/gateway', () => ({ status: 200, body: { url: this.gatewayUrl } }));
    this.add('GET', '/users/@me', () => ({ status: 200, body: s.bot }));
    this.add('GET', '/users/:id', ([id]) => {
      const user = s.users.get(id ?? '');
      return user ? { status: 200, body: user } : unknown(10013, 'Unknown User');
    });
    this.add('GET', '/applications/@me', () => ({
      status: 200,
      body: {
        id: s.applicationId,
        name: s.bot.username,
        flags: 0,
        bot_public: true,
        owner: s.bot,
        description: '',
      },
    }));
    this.add('GET', '/channels/:id', ([id]) => {
      const ch = s.channels.get(id ?? '');
      return ch ? { status: 200, body: channelApi(ch) } : unknown(10003, 'Unknown Channel');
    });
    this.add('POST', '/channels/:id/typing', ([id]) =>
      s.channels.has(id ?? '') ? { status: 204 } : unknown(10003, 'Unknown Channel'),
    );
    this.add('POST', '/channels/:id/messages', ([id], body) => {
      const ch = s.channels.get(id ?? '');
      if (!ch) return unknown(10003, 'Unknown Channel');
      const invalid = validate(body ?? {}, true);
      if (invalid) return invalid;
      const ref = body?.message_reference as
        | { message_id?: string; fail_if_not_exists?: boolean }
        | undefined;
      const known = s.channelMessages(ch.id).some((m) => m.id === ref?.message_id);
      // With fail_if_not_exists: false Discord sends the message without the reference instead.
      if (ref?.message_id && !known && ref.fail_if_not_exists === false && body)
        delete body.message_reference;
      else if (ref?.message_id && !known) {
        return {
          status: 400,
          body: formError('message_reference', 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message'),
        };
      }
      const m = this.create(ch, body ?? {});
      return { status: 200, body: s.toApi(m) };
    });
    // Newest first, at most `limit` (1-100, default 50), content hidden as the intent rules say.
    this.add('GET', '/channels/:id/messages', ([cid], _body, query) => {
      const ch = s.channels.get(cid ?? '');
      if (!ch) return unknown(10003, 'Unknown Channel');
      if (ch.noHistory) return { status: 403, body: { message: 'Missing Access', code: 50001 } };
      const limit = Number(query.get('limit') ?? 50);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        return { status: 400, body: formError('limit', 'NUMBER_TYPE_MAX', 'int value should be <= 100.') };
      const visible = s.channelMessages(ch.id).filter((m) => !m.deleted);
      const body = visible
        .slice(-limit)
        .reverse()
        .map((m) => {
          const api = s.toApi(m);
          if (this.contentVisible(m)) return api;
          return { ...api, content: '', attachments: [], embeds: [], components: [] };
        });
      return { status: 200, body };
    });
    this.add('GET', '/channels/:id/messages/:id', ([cid, mid]) => {
      const m = s.channelMessages(cid ?? '').find((x) => x.id === mid && !x.deleted);
      if (!m) return unknown(10008, 'Unknown Message');
      const api = s.toApi(m);
      if (this.contentVisible(m)) return { status: 200, body: api };
      return { status: 200, body: { ...api, content: '', attachments: [], embeds: [], components: [] } };
    });
    this.add('PATCH', '/channels/:id/messages/:id', ([cid, mid], body) => {
      const m = s.channelMessages(cid ?? '').find((x) => x.id === mid && !x.deleted);
      if (!m) return unknown(10008, 'Unknown Message');
      if (m.author.id !== s.bot.id)
        return {
          status: 403,
          body: { message: 'Cannot edit a message authored by another user', code: 50005 },
        };
      return this.edit(m, body ?? {});
    });
    this.add('DELETE', '/channels/:id/messages/:id', ([cid, mid]) => {
      const m = s.channelMessages(cid ?? '').find((x) => x.id === mid && !x.deleted);
      if (!m) return unknown(10008, 'Unknown Message');
      m.deleted = true;
      this.onChange(m);
      return { status: 204 };
    });
    this.add('PUT', '/applications/:id/commands', (_p, body) => replaceCommands(s, s.globalCommands, body));
    this.add('PUT', '/applications/:id/guilds/:id/commands', ([, gid], body) => {
      if (!s.guilds.has(gid ?? '')) return unknown(10004, 'Unknown Guild');
      let list = s.guildCommands.get(gid ?? '');
      if (!list) {
        list = [];
        s.guildCommands.set(gid ?? '', list);
      }
      return replaceCommands(s, list, body, gid);
    });
    this.add('GET', '/applications/:id/commands', () => ({ status: 200, body: s.globalCommands }));
    this.add('POST', '/interactions/:id/:token/callback', ([iid, token], body, query) =>
      this.callback(iid ?? '', token ?? '', body ?? {}, query.get('with_response') === 'true'),
    );
    this.add('POST', '/webhooks/:id/:token', ([, token], body) => {
      const it = this.byToken(token ?? '');
      if (!it) return unknown(10015, 'Unknown Webhook');
      const invalid = validate(body ?? {}, true);
      if (invalid) return invalid;
      const ch = s.channels.get(it.channelId) as FakeChannel;
      const flags = Number(body?.flags ?? 0);
      const m = this.create(ch, body ?? {}, { interactionId: it.id, flags });
      it.followUps.push(m.id);
      return { status: 200, body: s.toApi(m) };
    });
    const original = (token: string, mid: string): FakeMessage | Reply => {
      const it = this.byToken(token);
      if (!it) return unknown(10015, 'Unknown Webhook');
      const id = mid === '@original' ? it.originalId : mid;
      const m = id ? s.findMessage(id) : undefined;
      return m && !m.deleted ? m : unknown(10008, 'Unknown Message');
    };
    this.add('GET', '/webhooks/:id/:token/messages/:id', ([, token, mid]) => {
      const m = original(token ?? '', mid ?? '');
      return 'status' in m ? m : { status: 200, body: s.toApi(m as FakeMessage) };
    });
    this.add('PATCH', '/webhooks/:id/:token/messages/:id', ([, token, mid], body) => {
      const m = original(token ?? '', mid ?? '');
      if ('status' in m) return m;
      const msg = m as FakeMessage;
      msg.flags &= ~LOADING;
      return this.edit(msg, body ?? {});
    });
    this.add('DELETE', '/webhooks/:id/:token/messages/:id', ([, token, mid]) => {
      const m = original(token ?? '', mid ?? '');
      if ('status' in m) return m;
      (m as FakeMessage).deleted = true;
      return { status: 204 };
    });
  }

  private byToken(token: string): FakeInteraction | undefined {
    for (const it of this.state.interactions.values()) if (it.token === token) return it;
    return undefined;
  }

  private callback(iid: string, token: string, body: Body, withResponse: boolean): Reply {
    const it = this.state.interactions.get(iid);
    if (!it || it.token !== token) return unknown(10062, 'Unknown interaction');
    if (Date.now() - it.createdAt > INTERACTION_DEADLINE_MS) return unknown(10062, 'Unknown interaction');
    if (it.callbackType !== undefined) {
      return { status: 400, body: { message: 'Interaction has already been acknowledged.', code: 40060 } };
    }
    const type = Number(body.type);
    const data = (body.data ?? {}) as Body;
    if (type === 8 && !Array.isArray(data.choices))
      return { status: 400, body: formError('data.choices', 'BASE_TYPE_REQUIRED', 'required') };
    if (type === 8 && (data.choices as unknown[]).length > 25) {
      return {
        status: 400,
        body: formError('data.choices', 'BASE_TYPE_BAD_LENGTH', 'Must be 25 or fewer in length.'),
      };
    }
    if (type === 4 || type === 7) {
      const invalid = validate(data, type === 4);
      if (invalid) return invalid;
    }
    const modal = type === 9 ? openModal(it, data) : undefined;
    if (modal) return modal;
    it.callbackType = type;
    it.callbackAt = Date.now();
    it.callbackData = data;
    const ch = this.state.channels.get(it.channelId) as FakeChannel;
    let message: FakeMessage | undefined;
    if (type === 4 || type === 5) {
      const flags = Number(data.flags ?? 0);
      it.ephemeral = (flags & EPHEMERAL) !== 0;
      message = this.create(ch, type === 4 ? data : { content: '' }, {
        interactionId: it.id,
        flags: type === 5 ? flags | LOADING : flags,
      });
      it.originalId = message.id;
    } else if (type === 7) {
      const target = it.originalId ? this.state.findMessage(it.originalId) : undefined;
      if (target) this.edit(target, data);
    }
    if (!withResponse) return { status: 204 };
    return {
      status: 200,
      body: {
        interaction: {
          id: it.id,
          type: it.type,
          response_message_id: message?.id,
          response_message_loading: type === 5,
          response_message_ephemeral: it.ephemeral,
        },
        resource: { type, ...(message ? { message: this.state.toApi(message) } : {}) },
      },
    };
  }

  /** Creates a bot message, working out who it would actually ping from allowed_mentions. */
  private create(
    ch: FakeChannel,
    body: Body,
    extra: { interactionId?: string; flags?: number } = {},
  ): FakeMessage {
    const s = this.state;
    const m = botMessage(s, ch, body, extra);
    applyPings(s, m);
    s.addMessage(m);
    this.onChange(m);
    return m;
  }

  private edit(m: FakeMessage, body: Body): Reply {
    const invalid = validate(body, false);
    if (invalid) return invalid;
    if (typeof body.content === 'string') m.content = body.content;
    if (Array.isArray(body.components)) m.components = body.components;
    if (Array.isArray(body.embeds)) m.embeds = body.embeds;
    if (body.allowed_mentions !== undefined) m.allowed_mentions = body.allowed_mentions;
    if (m.content === '' && m.components.length === 0 && m.embeds.length === 0 && (m.flags & LOADING) === 0) {
      return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
    }
    m.edits++;
    m.history.push(m.content);
    m.edited_timestamp = new Date().toISOString();
    applyPings(this.state, m);
    this.onChange(m);
    return { status: 200, body: this.state.toApi(m) };
  }
}
