/**
 * The Discord adapter as one object: it logs in (retrying through outages until start-up is given up),
 * registers the core's commands once the gateway is ready, turns messages and interactions into
 * ChatService calls, and reports readiness. `startDiscord` (index.ts) builds one and connects it.
 */
import { type Client, Events, GatewayCloseCodes, type Message } from 'discord.js';
import type { MessageEditor } from '../../src/core/inflight.ts';
import type { TurnOutcome } from '../../src/core/service.ts';
import { conversationKey, type IncomingMessage } from '../../src/core/types.ts';
import { type Locale, t, toLocale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import { StartupError } from '../../src/platform.ts';
import { countRateLimit, type PlatformGlue, settleAnswer } from '../../src/platform-replies.ts';
import { KeyedQueue } from '../../src/util/keyed-queue.ts';
import { handleInteraction, registerApplicationCommands } from './commands.ts';
import { newDiscordClient, OUTAGE, restBase, watchGatewayCloses } from './gateway.ts';
import { type AddressedBy, addressedBy, type InboundOptions, quotedOf, toIncoming } from './inbound.ts';
import type { DiscordHandle, StartDiscordOptions } from './index.ts';
import { inviteUrl, resolvePermission } from './invite.ts';
import { DiscordReplySurface, discordEditor } from './surface.ts';

const LOGIN_RETRY_MS = 2000;

export class DiscordAdapter implements DiscordHandle {
  readonly name = 'discord';
  client: Client;
  inviteUrl: string | undefined;
  editor: MessageEditor;
  readonly whenReady: Promise<void>;
  private readonly options: StartDiscordOptions;
  private readonly log: Logger;
  private readonly glue: PlatformGlue;
  private readonly adminPermission: bigint;
  /** Per conversation: messages are handed to the core in the order they arrived. */
  private readonly arrival = new KeyedQueue();
  private connected = false;
  private paused = false;
  // Set just before our own client.destroy(): the gateway closing then is no lost connection.
  private destroying = false;
  // Why the gateway is not connected (latest close code or error), cleared once it is.
  private lastProblem: string | undefined;
  private markReady: () => void = () => undefined;
  // The login in progress: a start-up given up before the gateway opened must close it once it settles.
  private loggingIn: Promise<unknown> | undefined;

  constructor(options: StartDiscordOptions) {
    if (!options.config.discord.token)
      throw new Error(
        'discord.token is required. Set DISCORD_TOKEN to the bot token from the Discord developer portal.',
      );
    this.options = options;
    this.log = options.log.child({ component: 'discord' });
    this.glue = { platform: 'discord', service: options.service, log: this.log, metrics: options.metrics };
    this.adminPermission = resolvePermission(options.config.discord.adminPermission);
    this.whenReady = new Promise<void>((resolve) => (this.markReady = resolve));
    this.client = this.newClient();
    // Crash recovery edits an answer the previous run left half-written.
    this.editor = discordEditor(this.client.rest);
  }

  /** True once the gateway is ready and commands are registered. */
  get ready(): boolean {
    return this.connected;
  }

  // Also false while the gateway connection is down and discord.js is reconnecting.
  isReady(): boolean {
    return this.connected && this.client.isReady();
  }

  problem(): string | undefined {
    return this.client.isReady() ? undefined : this.lastProblem;
  }

  async pause(): Promise<void> {
    this.paused = true;
  }

  async stop(): Promise<void> {
    this.paused = true;
    this.connected = false;
    this.destroying = true;
    await this.client.destroy();
  }

  async registerCommands(): Promise<void> {
    if (!this.client.isReady()) return;
    const { service, config } = this.options;
    const { guildIds } = config.discord;
    const withActions = this.options.actions !== undefined;
    await registerApplicationCommands(this.client, service.commands(), guildIds, this.log, withActions);
  }

  /** Logs in; resolves once the gateway connection is open, retrying outages until the signal aborts. */
  async connect(): Promise<this> {
    const { signal } = this.options;
    if (signal?.aborted) throw new StartupError('Discord: start-up given up');
    this.setProblem('gateway handshake not finished (no READY yet)');
    const watch = this.watchAbort(signal);
    try {
      while (!(await this.attemptLogin(watch.givenUp))) this.client = this.newClient();
    } finally {
      // Connected (or failed): from now on only stop() ends the client.
      watch.remove();
    }
    this.editor = discordEditor(this.client.rest);
    return this;
  }

  /** True once logged in; false after an outage (waited out, try again); throws when it cannot work. */
  private async attemptLogin(givenUp: Promise<never>): Promise<boolean> {
    const loggingIn = this.client.login(this.options.config.discord.token ?? '');
    this.loggingIn = loggingIn;
    watchGatewayCloses(this.client, (code) => {
      if (this.destroying) return;
      const name = GatewayCloseCodes[code];
      this.setProblem(`gateway closed the connection with code ${code}${name ? ` (${name})` : ''}`);
    });
    try {
      await Promise.race([loggingIn, givenUp]);
      return true;
    } catch (err) {
      if (this.options.signal?.aborted) throw err;
      await this.client.destroy().catch(() => undefined);
      const why = err instanceof Error ? err.message : String(err);
      if (!OUTAGE.test(why)) throw this.loginRefused(why);
      // The gateway is down or refusing us (5xx, 429, network): try again until start-up gives up.
      this.setProblem(`gateway error: ${why}`);
      this.log.debug({ reason: why }, 'discord gateway not reachable yet; retrying');
      await Promise.race([new Promise((r) => setTimeout(r, LOGIN_RETRY_MS)), givenUp]);
      return false;
    }
  }

  private loginRefused(why: string): StartupError {
    const { apiUrl } = this.options.config.discord;
    const where = apiUrl ? ` at ${restBase(apiUrl)}` : '';
    return new StartupError(
      `Discord login failed${where}: ${why}. Check DISCORD_TOKEN (and DISCORD_API_URL if set).`,
    );
  }

  /** Given up (a signal during start-up): destroy the client; login may never settle on its own. */
  private watchAbort(signal: AbortSignal | undefined) {
    let giveUp: (err: Error) => void = () => undefined;
    const givenUp = new Promise<never>((_, reject) => (giveUp = reject));
    givenUp.catch(() => undefined);
    const onAbort = () => {
      this.destroying = true;
      void this.client.destroy().catch(() => undefined);
      // Aborted before the gateway connection opened, login may still connect: close it then too.
      void this.loggingIn?.finally(() => this.client.destroy()).catch(() => undefined);
      giveUp(new StartupError('Discord: start-up given up'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    return { givenUp, remove: () => signal?.removeEventListener('abort', onAbort) };
  }

  private setProblem(why: string): void {
    this.lastProblem = why;
    if (!this.connected) this.options.report?.(why);
  }

  private newClient(): Client {
    const client = newDiscordClient(this.options.config.discord, this.log);
    client.once(Events.ClientReady, (c) => void this.onReady(c));
    client.on(Events.MessageCreate, (message) => {
      void this.onMessage(message).catch((err: unknown) =>
        this.log.error({ err, message: message.id }, 'message handling failed'),
      );
    });
    client.on(Events.InteractionCreate, (interaction) => {
      const deps = {
        service: this.options.service,
        log: this.log,
        adminPermission: this.adminPermission,
        actions: this.options.actions,
        messageContentIntent: this.options.config.discord.messageContentIntent,
      };
      void handleInteraction(interaction, deps).catch((err: unknown) =>
        this.log.error({ err, interaction: interaction.id }, 'interaction handling failed'),
      );
    });
    client.on(Events.Error, (err) => this.log.error({ err }, 'discord client error'));
    this.watchGateway(client);
    // discord.js waits out 429s itself; operators still want to see them.
    client.rest.on('rateLimited', (info) =>
      countRateLimit(this.glue, {
        method: info.method,
        route: info.route,
        retryAfterMs: info.retryAfter,
        global: info.global,
        scope: info.scope,
      }),
    );
    return client;
  }

  private async onReady(c: Client<true>): Promise<void> {
    this.inviteUrl = inviteUrl(c.application.id);
    this.log.info(
      { user: c.user.tag, id: c.user.id, guilds: c.guilds.cache.size, invite: this.inviteUrl },
      `logged in to Discord as ${c.user.tag}`,
    );
    this.lastProblem = undefined;
    await this.registerCommands();
    this.connected = true;
    this.markReady();
  }

  private watchGateway(client: Client): void {
    // ShardDisconnect only fires when discord.js gives up; a dropped connection it repairs shows up as
    // reconnecting, then resumed (or ready again after a fresh IDENTIFY).
    client.on(Events.ShardDisconnect, (event, shard) => {
      if (this.destroying) this.log.debug({ code: event.code, shard }, 'discord gateway closed (shutdown)');
      else this.log.warn({ code: event.code, shard }, 'discord gateway disconnected');
    });
    client.on(Events.ShardReconnecting, (shard) => {
      const reason = this.lastProblem;
      if (this.destroying) this.log.debug({ shard }, 'discord gateway closed (shutdown)');
      else if (!this.connected)
        this.log.debug({ shard, reason }, 'discord gateway not connected yet; retrying');
      else this.log.warn({ shard, reason }, 'discord gateway connection lost; reconnecting');
    });
    client.on(Events.ShardResume, (shard, replayed) => {
      this.lastProblem = undefined;
      this.log.info({ shard, replayed }, 'discord gateway resumed');
    });
    client.on(Events.ShardError, (err, shard) => {
      // e.g. "Unexpected server response: 503" when the gateway refuses the websocket.
      this.setProblem(`gateway error: ${err.message}`);
      this.log.warn({ err, shard }, 'discord gateway error');
    });
  }

  private async onMessage(message: Message): Promise<void> {
    // Read now, in the event's own tick: the author's member is only briefly in the cache (caches.ts).
    const first = this.inbound(message);
    if (!first || !message.channel.isSendable()) return;
    const { channel } = message;
    const { config } = this.options;
    let started: { answer: Promise<TurnOutcome>; surface: DiscordReplySurface; locale: Locale } | undefined;
    // Look-ups (the channel's mode, the message replied to) take varying time: made in arrival order per
    // conversation, so the core's queue receives a conversation's messages in the order Discord sent them.
    await this.arrival.run(conversationKey(first.incoming.conversation), async () => {
      const incoming = await this.complete(message, first);
      if (!incoming) return;
      const locale = incoming.author.locale;
      const lineLocale = toLocale(locale, config.locale);
      const surface = new DiscordReplySurface({
        channel,
        replyTo: message,
        minEditIntervalMs: config.streaming.minEditIntervalMs,
        pacing: this.options.pacing,
        stopLabel: t(lineLocale, 'stop.button'),
        ...(locale ? { locale } : {}),
      });
      if (this.paused) {
        // Shutting down: the service no longer takes turns, but the person still hears why (README).
        if (incoming.author.isBot || incoming.byChannelMode) return;
        this.log.info({ message: message.id }, 'shutting down; asked to try again later');
        await surface.post(t(lineLocale, 'status.shutting_down'));
        return;
      }
      started = {
        answer: this.options.service.handleMessage(incoming, surface),
        surface,
        locale: lineLocale,
      };
    });
    if (!started) return;
    await settleAnswer(this.glue, started.answer, started.surface, started.locale, { message: message.id });
  }

  private inboundOptions(botId: string): InboundOptions {
    const { discord, attachments } = this.options.config;
    return {
      botId,
      mentionRoleIds: discord.mentionRoleIds,
      maxAttachmentBytes: discord.maxAttachmentBytes,
      downloadTimeoutMs: attachments.downloadTimeoutMs,
      adminPermission: this.adminPermission,
    };
  }

  /** The message as the core's IncomingMessage and why it is for the bot (undefined: maybe mode all). */
  private inbound(message: Message): { incoming: IncomingMessage; by: AddressedBy | undefined } | undefined {
    const botId = this.client.user?.id;
    if (!botId || message.author.id === botId) return undefined;
    const opts = this.inboundOptions(botId);
    const by = addressedBy(message, opts);
    if (by === 'reply' && !message.content && message.attachments.size === 0) {
      // Without the Message Content intent, a reply that does not ping the bot arrives without content.
      this.log.debug(
        { message: message.id },
        'reply to the bot arrived without content (reply ping off); not answered',
      );
      return undefined;
    }
    if (!by && !this.mayAnswerUnaddressed(message)) return undefined;
    return { incoming: toIncoming(message, opts), by };
  }

  /**
   * A message not addressed to the bot can only be answered in a channel in mode all, and only when the
   * bot can read it (Message Content intent) and a person wrote it (no bots, no system messages).
   */
  private mayAnswerUnaddressed(message: Message): boolean {
    const readable = this.options.config.discord.messageContentIntent;
    // Nothing to answer in a sticker or an embed alone.
    const empty = !message.content.trim() && message.attachments.size === 0;
    return readable && message.inGuild() && !message.author.bot && !message.system && !empty;
  }

  /** In arrival order: the channel's mode for an unaddressed message, and the message a reply quotes. */
  private async complete(
    message: Message,
    { incoming, by }: { incoming: IncomingMessage; by: AddressedBy | undefined },
  ): Promise<IncomingMessage | undefined> {
    let ready = incoming;
    if (!by) {
      const everyMessage = await this.options.service
        .answersEveryMessage(incoming.conversation)
        .catch((err: unknown) => {
          this.log.warn({ err, message: message.id }, 'could not read the channel mode; not answering');
          return false;
        });
      if (!everyMessage) return undefined;
      ready = { ...incoming, addressed: true, byChannelMode: true };
    }
    const { messageContentIntent } = this.options.config.discord;
    const opts = { ...this.inboundOptions(incoming.botUserId ?? ''), messageContentIntent };
    const quote = await quotedOf(message, opts).catch((err: unknown) => {
      this.log.warn(
        { err, message: message.id },
        'could not fetch the message replied to; answering without it',
      );
      return undefined;
    });
    if (quote && 'quoted' in quote) return { ...ready, quoted: quote.quoted };
    if (quote) return { ...ready, quoteUnreadable: true };
    return ready;
  }
}
