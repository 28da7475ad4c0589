/**
 * The fake Discord gateway (v10, JSON encoding, no compression): HELLO, IDENTIFY → READY then one
 * GUILD_CREATE per guild, heartbeat ACKs, and dispatch of events to every identified session. A
 * session outlives its connection: events dispatched while it is disconnected are kept, and a RESUME
 * with its id replays what the client missed (then RESUMED), as Discord does; an unknown session id
 * gets INVALID_SESSION (not resumable), so the client identifies again.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { channelApi } from './rules.ts';
import { BASE_PERMISSIONS, type FakeGuild, type FakeState, MANAGE_GUILD } from './state.ts';

type Payload = Record<string, unknown>;
const MESSAGE_CONTENT = 1 << 15;

/** Dispatches kept per session for RESUME. */
const REPLAY_KEEP = 5000;

interface Session {
  id: string;
  /** The connection, or null while the client is away (dropped, resuming). */
  ws: WebSocket | null;
  seq: number;
  /** Dispatches sent (or due) to this session, oldest first, for replay on RESUME. */
  sent: Array<{ s: number; payload: string }>;
  identified: boolean;
  intents: number;
  /** [shard id, shard count] from IDENTIFY. */
  shard: [number, number];
}

/** Discord's rule: a guild lives on shard (guild_id >> 22) % shard_count; DMs arrive on shard 0. */
export function shardOf(guildId: string | undefined, count: number): number {
  if (!guildId || count <= 1) return 0;
  return Number((BigInt(guildId) >> 22n) % BigInt(count));
}

export class FakeGateway {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Set<Session>();
  /** Which session a connection speaks for (changes on RESUME). */
  private readonly owners = new WeakMap<WebSocket, Session>();
  private readonly state: FakeState;
  private readonly token: string;
  heartbeatIntervalMs = 41_250;
  /** Intents of the last IDENTIFY. */
  intents = 0;
  identifies = 0;
  heartbeats = 0;
  /** Successful RESUMEs. */
  resumes = 0;
  /** URL the client should resume at (the gateway itself). */
  resumeUrl = 'ws://127.0.0.1:1';
  private readyWaiters: Array<() => void> = [];
  /** Faults: close each connection with this code when it identifies or resumes (e.g. 4000). */
  closeWith: number | undefined;
  /** Faults: accept the websocket but never send HELLO (a handshake that never finishes). */
  silent = false;
  /** Connections opened so far (also those a fault ended). */
  opened = 0;

  constructor(state: FakeState, token: string) {
    this.state = state;
    this.token = token;
    this.wss.on('connection', (ws) => this.open(ws));
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  /** Resolves once a session has identified and received READY. */
  waitIdentified(): Promise<void> {
    if ([...this.sessions].some((s) => s.identified && s.ws)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Shard ids that have identified, e.g. to check a sharded client opened them all. */
  get shards(): Array<[number, number]> {
    return [...this.sessions].filter((s) => s.identified && s.ws).map((s) => s.shard);
  }

  /**
   * Sends a dispatch (op 0) to the identified session(s) of the shard that owns the event's guild, as
   * that session's intents allow it to see.
   */
  dispatch(t: string, d: unknown): void {
    const guildId = (d as { guild_id?: string } | null)?.guild_id;
    for (const s of this.sessions) {
      if (s.identified && shardOf(guildId, s.shard[1]) === s.shard[0])
        this.send(s, {
          op: 0,
          t,
          s: ++s.seq,
          d: t === 'MESSAGE_CREATE' && d && typeof d === 'object' ? this.visible(s, d as Payload) : d,
        });
    }
  }

  /**
   * Cuts every connection without a close frame (a network failure). Sessions stay resumable unless
   * `resumable` is false, in which case they are forgotten and a RESUME gets INVALID_SESSION.
   */
  dropAll(resumable = true): void {
    for (const s of this.sessions) {
      const ws = s.ws;
      s.ws = null;
      ws?.terminate();
    }
    if (!resumable) this.sessions.clear();
  }

  /** Connections currently open with an identified or resumed session. */
  get connected(): number {
    let n = 0;
    for (const s of this.sessions) if (s.identified && s.ws) n++;
    return n;
  }

  private resume(pending: Session, d: Record<string, unknown>): void {
    const ws = pending.ws;
    this.sessions.delete(pending);
    if (!ws) return;
    const old = [...this.sessions].find((x) => x.id === d.session_id && x.identified);
    if (!old || (d.token !== this.token && d.token !== `Bot ${this.token}`)) {
      // Not resumable: the client must IDENTIFY on a new connection.
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ op: 9, d: false }));
      return;
    }
    old.ws?.terminate();
    old.ws = ws;
    this.owners.set(ws, old);
    ws.removeAllListeners('close');
    ws.on('close', () => {
      if (old.ws === ws) old.ws = null;
    });
    this.resumes++;
    const from = Number(d.seq ?? 0);
    for (const e of old.sent) if (e.s > from && ws.readyState === ws.OPEN) ws.send(e.payload);
    this.send(old, { op: 0, t: 'RESUMED', s: ++old.seq, d: {} });
  }

  /**
   * Without the privileged Message Content intent, a guild message that does not mention the bot user
   * arrives with empty content, attachments, embeds and components (DMs and mentions keep theirs).
   */
  private visible(s: Session, d: Payload): Payload {
    if ((s.intents & MESSAGE_CONTENT) !== 0 || !d.guild_id) return d;
    const ref = d.referenced_message as Payload | undefined;
    // The message a reply quotes follows the same rule as the reply itself.
    const shown = ref && !this.readable(ref) ? { ...d, referenced_message: blank(ref) } : d;
    return this.readable(d) ? shown : blank(shown);
  }

  /** Without the intent: a guild message's content is visible when it mentions the bot or is the bot's. */
  readable(d: { mentions?: unknown; author?: unknown }): boolean {
    const mentions = Array.isArray(d.mentions) ? (d.mentions as Array<{ id?: string } | null>) : [];
    const mentioned = mentions.some((u) => u?.id === this.state.bot.id);
    return mentioned || (d.author as { id: string } | undefined)?.id === this.state.bot.id;
  }

  close(): void {
    for (const s of this.sessions) s.ws?.terminate();
    this.sessions.clear();
    this.wss.close();
  }

  private open(ws: WebSocket): void {
    const session: Session = {
      id: `session-${this.state.nextId()}`,
      ws,
      seq: 0,
      sent: [],
      identified: false,
      intents: 0,
      shard: [0, 1],
    };
    this.sessions.add(session);
    this.owners.set(ws, session);
    // An identified session stays (detached) so that it can be resumed; others simply go.
    ws.on('close', () => {
      if (session.ws !== ws) return;
      session.ws = null;
      if (!session.identified) this.sessions.delete(session);
    });
    ws.on('message', (raw) => {
      let msg: { op?: number; d?: Record<string, unknown> };
      try {
        msg = JSON.parse(String(raw)) as typeof msg;
      } catch {
        ws.close(4002, 'Error while decoding payload.');
        return;
      }
      this.onMessage(this.owners.get(ws) ?? session, msg);
    });
    this.opened++;
    if (this.silent) return;
    this.send(session, { op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs } });
  }

  private onMessage(s: Session, msg: { op?: number; d?: Record<string, unknown> }): void {
    const ws = s.ws;
    if (!ws) return;
    if (this.closeWith !== undefined && (msg.op === 2 || msg.op === 6)) {
      ws.close(this.closeWith, 'Refused by the test.');
      return;
    }
    switch (msg.op) {
      case 1:
        this.heartbeats++;
        this.send(s, { op: 11 });
        return;
      case 2: {
        const d = msg.d ?? {};
        if (d.token !== this.token && d.token !== `Bot ${this.token}`) {
          ws.close(4004, 'Authentication failed.');
          return;
        }
        this.identifies++;
        s.identified = true;
        s.intents = Number(d.intents ?? 0);
        if (Array.isArray(d.shard)) s.shard = [Number(d.shard[0]), Number(d.shard[1])];
        this.intents = s.intents;
        this.ready(s);
        return;
      }
      case 3:
        return; // presence update
      case 6:
        this.resume(s, msg.d ?? {});
        return;
      default:
        ws.close(4001, 'Unknown opcode.');
    }
  }

  private ready(s: Session): void {
    const st = this.state;
    const guilds = [...st.guilds.values()].filter((g) => shardOf(g.id, s.shard[1]) === s.shard[0]);
    this.send(s, {
      op: 0,
      t: 'READY',
      s: ++s.seq,
      d: {
        v: 10,
        user: st.bot,
        guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
        session_id: s.id,
        resume_gateway_url: this.resumeUrl,
        shard: s.shard,
        application: { id: st.applicationId, flags: 0 },
        private_channels: [],
        relationships: [],
        user_settings: {},
      },
    });
    for (const g of guilds) this.send(s, { op: 0, t: 'GUILD_CREATE', s: ++s.seq, d: guildApi(st, g) });
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  /** Sends to the session's connection; dispatches are also kept for replay (even while away). */
  private send(s: Session, payload: { op: number; s?: number; [key: string]: unknown }): void {
    const text = JSON.stringify(payload);
    if (payload.op === 0 && payload.s !== undefined) {
      s.sent.push({ s: payload.s, payload: text });
      if (s.sent.length > REPLAY_KEEP) s.sent.splice(0, s.sent.length - REPLAY_KEEP);
    }
    if (s.ws && s.ws.readyState === s.ws.OPEN) s.ws.send(text);
  }
}

export function guildApi(st: FakeState, g: FakeGuild): Record<string, unknown> {
  const channels = [...st.channels.values()].filter((c) => c.guild_id === g.id);
  return {
    id: g.id,
    name: g.name,
    icon: null,
    owner_id: g.ownerId,
    preferred_locale: g.preferredLocale,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    nsfw_level: 0,
    premium_tier: 0,
    system_channel_flags: 0,
    features: [],
    roles: [
      {
        id: g.id,
        name: '@everyone',
        permissions: String(BASE_PERMISSIONS),
        position: 0,
        color: 0,
        hoist: false,
        managed: false,
        mentionable: false,
        flags: 0,
      },
      {
        id: g.adminRoleId,
        name: 'Admin',
        permissions: String(BASE_PERMISSIONS | MANAGE_GUILD),
        position: 1,
        color: 0,
        hoist: false,
        managed: false,
        mentionable: true,
        flags: 0,
      },
    ],
    emojis: [],
    stickers: [],
    channels: channels.filter((c) => c.type !== 11 && c.type !== 12).map(channelApi),
    threads: channels.filter((c) => c.type === 11 || c.type === 12).map(channelApi),
    members: [...g.members.values()].map((m) => ({
      user: m.user,
      nick: m.nick,
      roles: m.roles,
      joined_at: new Date(0).toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
    })),
    member_count: g.members.size,
    large: false,
    unavailable: false,
    joined_at: new Date(0).toISOString(),
    voice_states: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

function blank(d: Payload): Payload {
  return { ...d, content: '', attachments: [], embeds: [], components: [] };
}
