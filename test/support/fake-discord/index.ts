/**
 * A fake Discord on 127.0.0.1 for the real discord.js client: REST under /api/v10 and a gateway websocket
 * at /gateway (returned by GET /gateway/bot). Tests set up guilds, channels and users, make people say
 * things (MESSAGE_CREATE), run slash commands and press buttons (INTERACTION_CREATE), and then ask
 * what each channel shows and how many requests and edits it took.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { settle } from '../fake-time.ts';
import { modalSubmission } from './components.ts';
import { FakeGateway, guildApi } from './gateway.ts';
import {
  type InteractionOptions,
  interaction,
  memberApi,
  optionType,
  type SayOptions,
  userMessage,
} from './payloads.ts';
import { FakeRest } from './rest.ts';
import { channelApi } from './rules.ts';
import {
  BASE_PERMISSIONS,
  type FakeAttachment,
  type FakeChannel,
  type FakeGuild,
  type FakeInteraction,
  type FakeMessage,
  FakeState,
  type FakeUser,
  MANAGE_GUILD,
} from './state.ts';

export type { InteractionOptions, SayOptions } from './payloads.ts';
export type {
  FakeAttachment,
  FakeChannel,
  FakeGuild,
  FakeInteraction,
  FakeMessage,
  FakeUser,
  RecordedRequest,
} from './state.ts';

const MESSAGE_CONTENT_INTENT = 1 << 15;

export class FakeDiscord {
  readonly state = new FakeState();
  readonly token: string;
  readonly rest: FakeRest;
  readonly gateway: FakeGateway;
  /** Base URL for discord.js's REST `api` option (no version). */
  apiUrl = '';
  baseUrl = '';
  private readonly server = createServer((req, res) => void this.rest.handle(req, res));
  private readonly sockets = new Set<Socket>();
  private waiters: Array<() => void> = [];
  /** Faults: refuse every gateway websocket upgrade with this HTTP status. */
  refuseGatewayWith: number | undefined;

  constructor(token: string) {
    this.token = token;
    this.rest = new FakeRest(this.state, token);
    this.gateway = new FakeGateway(this.state, token);
    this.rest.onChange = () => this.poke();
    this.rest.contentVisible = (m) =>
      (this.gateway.intents & MESSAGE_CONTENT_INTENT) !== 0 || !m.guild_id || this.gateway.readable(m);
    this.server.on('upgrade', (req, socket, head) => {
      if (this.refuseGatewayWith !== undefined) {
        socket.end(
          `HTTP/1.1 ${this.refuseGatewayWith} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
        );
        return;
      }
      if ((req.url ?? '').split('?')[0] === '/gateway') this.gateway.upgrade(req, socket, head);
      else socket.destroy();
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.baseUrl}/api`;
    this.rest.gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
    this.gateway.resumeUrl = this.rest.gatewayUrl;
  }

  async close(): Promise<void> {
    this.gateway.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get bot(): FakeUser {
    return this.state.bot;
  }

  // ---- world set-up ----

  addUser(username: string, globalName?: string): FakeUser {
    return this.state.addUser(username, globalName ? { globalName } : {});
  }

  addGuild(name: string, opts: { preferredLocale?: string } = {}): FakeGuild {
    const s = this.state;
    const owner = s.addUser(`${name}-owner`);
    const g: FakeGuild = {
      id: s.nextId(),
      name,
      ownerId: owner.id,
      preferredLocale: opts.preferredLocale ?? 'en-US',
      adminRoleId: s.nextId(),
      members: new Map(),
    };
    s.guilds.set(g.id, g);
    this.addMember(g, s.bot);
    this.addMember(g, owner);
    if (this.gateway.identifies > 0) this.gateway.dispatch('GUILD_CREATE', guildApi(s, g));
    return g;
  }

  addMember(guild: FakeGuild, user: FakeUser, opts: { admin?: boolean; nick?: string } = {}): void {
    const perms = opts.admin ? BASE_PERMISSIONS | MANAGE_GUILD : BASE_PERMISSIONS;
    guild.members.set(user.id, {
      user,
      nick: opts.nick ?? null,
      roles: opts.admin ? [guild.adminRoleId] : [],
      permissions: String(perms),
    });
    if (this.gateway.identifies > 0) {
      this.gateway.dispatch('GUILD_MEMBER_ADD', { ...memberApi(guild, user.id), guild_id: guild.id });
    }
  }

  addChannel(guild: FakeGuild, name: string): FakeChannel {
    const ch: FakeChannel = { id: this.state.nextId(), type: 0, name, guild_id: guild.id };
    this.state.channels.set(ch.id, ch);
    if (this.gateway.identifies > 0) this.gateway.dispatch('CHANNEL_CREATE', channelApi(ch));
    return ch;
  }

  /** A public thread under `parent`, announced with THREAD_CREATE. */
  createThread(parent: FakeChannel, name: string, owner: FakeUser): FakeChannel {
    const ch: FakeChannel = {
      id: this.state.nextId(),
      type: 11,
      name,
      guild_id: parent.guild_id as string,
      parent_id: parent.id,
      recipient: owner,
    };
    this.state.channels.set(ch.id, ch);
    this.gateway.dispatch('THREAD_CREATE', { ...channelApi(ch), newly_created: true });
    return ch;
  }

  dmChannel(user: FakeUser): FakeChannel {
    for (const ch of this.state.channels.values())
      if (ch.type === 1 && ch.recipient?.id === user.id) return ch;
    const ch: FakeChannel = { id: this.state.nextId(), type: 1, recipient: user };
    this.state.channels.set(ch.id, ch);
    return ch;
  }

  /** Registers bytes the fake serves, and the attachment object pointing at them (size as Discord reports it). */
  addFile(
    filename: string,
    bytes: Uint8Array,
    contentType: string,
    reportedSize = bytes.length,
  ): FakeAttachment {
    const id = this.state.nextId();
    this.state.files.set(id, { bytes, type: contentType, downloads: 0 });
    const url = `${this.baseUrl}/attachments/${id}/${encodeURIComponent(filename)}`;
    return { id, filename, size: reportedSize, content_type: contentType, url, proxy_url: url };
  }

  // ---- people doing things ----

  /** A user posts a message (MESSAGE_CREATE). Mentions are read from `<@id>`, `@everyone`, `@here`. */
  say(opts: SayOptions): FakeMessage {
    const { message, payload } = userMessage(this.state, this.channel(opts.channelId), opts);
    this.gateway.dispatch('MESSAGE_CREATE', payload);
    return message;
  }

  /** A user DMs the bot. */
  dm(author: FakeUser, content: string, attachments?: FakeAttachment[]): FakeMessage {
    const ch = this.dmChannel(author);
    return this.say({ author, channelId: ch.id, content, ...(attachments ? { attachments } : {}) });
  }

  /** A slash command (type 2) with typed options. */
  slash(
    opts: InteractionOptions & { name: string; options?: Record<string, string | number | boolean> },
  ): FakeInteraction {
    const command = this.findCommand(opts.name, opts.channelId);
    const options = Object.entries(opts.options ?? {}).map(([name, value]) => ({
      name,
      value,
      type: optionType(command, name),
    }));
    return this.interact(opts, 2, { id: command?.id ?? '0', name: opts.name, type: 1, options });
  }

  /** The user is typing `value` into option `option` of `/name` (autocomplete, type 4). */
  autocomplete(opts: InteractionOptions & { name: string; option: string; value: string }): FakeInteraction {
    const command = this.findCommand(opts.name, opts.channelId);
    return this.interact(opts, 4, {
      id: command?.id ?? '0',
      name: opts.name,
      type: 1,
      options: [
        { name: opts.option, value: opts.value, type: optionType(command, opts.option), focused: true },
      ],
    });
  }

  /**
   * The user picks Apps → `name` on a message (a message context-menu command: interaction type 2,
   * command type 3). Discord hands the target message over in `resolved`, content included.
   */
  messageCommand(opts: InteractionOptions & { name: string; messageId: string }): FakeInteraction {
    const command = this.findCommand(opts.name, opts.channelId);
    if (command?.type !== 3) throw new Error(`no message command "${opts.name}" registered`);
    const message = this.state.findMessage(opts.messageId);
    if (!message) throw new Error(`no message ${opts.messageId}`);
    return this.interact(opts, 2, {
      id: command.id,
      name: opts.name,
      type: 3,
      target_id: message.id,
      resolved: { messages: { [message.id]: this.state.toApi(message) } },
    });
  }

  /** The user presses a button (message component, type 3) on a bot message. */
  clickButton(opts: InteractionOptions & { messageId: string; customId: string }): FakeInteraction {
    const message = this.state.findMessage(opts.messageId);
    if (!message) throw new Error(`no message ${opts.messageId}`);
    const it = this.interact(
      opts,
      3,
      { custom_id: opts.customId, component_type: 2 },
      this.state.toApi(message),
    );
    it.messageId = message.id;
    return it;
  }

  /**
   * The user fills in and sends the modal the bot opened in answer to `opened` (MODAL_SUBMIT, type 5).
   * A modal opened from a button carries that button's message, as Discord sends it.
   */
  submitModal(
    opened: FakeInteraction,
    opts: InteractionOptions & { values: Record<string, string> },
  ): FakeInteraction {
    const modal = opened.modal;
    if (!modal) throw new Error(`interaction ${opened.id} opened no modal`);
    const message = opened.messageId ? this.state.findMessage(opened.messageId) : undefined;
    const data = { custom_id: modal.custom_id, components: modalSubmission(modal, opts.values) };
    const it = this.interact(opts, 5, data, message ? this.state.toApi(message) : undefined);
    if (message) it.messageId = message.id;
    return it;
  }

  // ---- what people see ----

  /** The bot's messages in a channel, oldest first (deleted ones left out). */
  botMessages(channelId: string): FakeMessage[] {
    return this.state.channelMessages(channelId).filter((m) => m.author.id === this.bot.id && !m.deleted);
  }

  /** What the channel shows: every visible message's content, in order. */
  transcript(channelId: string): string[] {
    return this.state
      .channelMessages(channelId)
      .filter((m) => !m.deleted)
      .map((m) => `${m.author.username}: ${m.content}`);
  }

  /** 429s the fake answered so far. */
  get rateLimited(): number {
    return this.rest.limiter.rateLimited;
  }

  requests(route?: string): Array<import('./state.ts').RecordedRequest> {
    return route ? this.state.requests.filter((r) => r.route === route) : this.state.requests;
  }

  /** Forces 429s on the next `times` requests of `method route` (route template, e.g. /channels/:id/messages/:id). */
  forceRateLimit(method: string, route: string, times = 1, retryAfterSec = 0.3): void {
    this.rest.limiter.forced.push({ method, route, times, retryAfterSec });
  }

  /** Answers the next `times` requests of `method route` with a server error (no rate-limit headers). */
  forceServerError(method: string, route: string, times = 1, status = 500): void {
    this.rest.limiter.failures.push({ method, route, times, status });
  }

  /**
   * Drops every gateway connection without a close frame, as a network failure would. With
   * `resumable: false` the sessions are forgotten too, so the client has to IDENTIFY again.
   */
  dropGateway(opts: { resumable?: boolean } = {}): void {
    this.gateway.dropAll(opts.resumable ?? true);
  }

  /**
   * Resolves when `check` holds, re-checking whenever the bot changes a message (and every 50 ms);
   * under fake timers, fake time advances meanwhile (test/support/fake-time.ts).
   */
  waitFor<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    let gaveUp = false;
    const poll = async (): Promise<T> => {
      for (;;) {
        const v = check();
        if (v) return v;
        if (gaveUp) throw new Error('given up');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, 50);
          this.waiters.push(done);
          function done() {
            clearTimeout(timer);
            resolve();
          }
        });
      }
    };
    const waiting = settle(poll(), `${what} (fake discord)`, timeoutMs);
    waiting.catch(() => {
      gaveUp = true;
    });
    return waiting;
  }

  private poke(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private channel(id: string): FakeChannel {
    const ch = this.state.channels.get(id);
    if (!ch) throw new Error(`no channel ${id}`);
    return ch;
  }

  private findCommand(name: string, channelId: string): Record<string, unknown> | undefined {
    const guildId = this.state.channels.get(channelId)?.guild_id;
    const scoped = guildId ? (this.state.guildCommands.get(guildId) ?? []) : [];
    return [...scoped, ...this.state.globalCommands].find((c) => c.name === name);
  }

  private interact(
    opts: InteractionOptions,
    type: number,
    data: Record<string, unknown>,
    message?: unknown,
  ): FakeInteraction {
    const { it, payload } = interaction(this.state, this.channel(opts.channelId), opts, {
      type,
      data,
      message,
    });
    this.state.interactions.set(it.id, it);
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    return it;
  }
}

export async function startFakeDiscord(token = 'fake-bot-token'): Promise<FakeDiscord> {
  const fake = new FakeDiscord(token);
  await fake.listen();
  return fake;
}
