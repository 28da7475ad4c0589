/**
 * The Discord adapter: connects discord.js (REST + gateway, optionally to another Discord-compatible
 * API base), registers the core's commands, and translates messages and interactions into ChatService
 * calls. No conversation logic lives here.
 */
import {
  Client,
  Events,
  GatewayCloseCodes,
  GatewayIntentBits,
  type Message,
  Partials,
  PermissionFlagsBits,
  type PermissionResolvable,
  PermissionsBitField,
  Routes,
} from 'discord.js';
import type { Config } from '../../src/config/schema.ts';
import type { MessageEditor } from '../../src/core/inflight.ts';
import type { ChatService } from '../../src/core/service.ts';
import { t, toLocale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import { type PlatformAdapter, StartupError } from '../../src/platform.ts';
import { boundDmChannels, cacheOptions } from './caches.ts';
import { handleInteraction, toApplicationCommand } from './commands.ts';
import { addressedBy, type InboundOptions, toIncoming } from './inbound.ts';
import { DiscordReplySurface, discordEditor, NO_PINGS } from './surface.ts';

export { toApplicationCommand } from './commands.ts';
export { DiscordReplySurface, NO_PINGS } from './surface.ts';

/** What the bot needs in a channel: see it, talk (also in threads), and reply to messages. */
export const INVITE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.ReadMessageHistory;
export const INVITE_SCOPES = ['bot', 'applications.commands'] as const;

export interface DiscordHandle extends PlatformAdapter {
  client: Client;
  /** True once the gateway is ready and commands are registered. */
  readonly ready: boolean;
  /** Resolves when `ready` turns true. */
  whenReady: Promise<void>;
  inviteUrl: string | undefined;
  /** Shutdown begins: new messages are no longer answered; answers in flight keep editing. */
  pause(): void;
  editor: MessageEditor;
  stop(): Promise<void>;
}

/** Login failures that are an outage, not a configuration problem: retried until start-up gives up. */
const OUTAGE = /Unexpected server response: (5\d\d|429)|ECONNRESET|ETIMEDOUT|EAI_AGAIN|socket hang up/;
const LOGIN_RETRY_MS = 2000;

export interface StartDiscordOptions {
  config: Pick<Config, 'discord' | 'streaming' | 'locale' | 'attachments'>;
  service: ChatService;
  log: Logger;
  /** Aborted when start-up is given up: stop connecting (login rejects with a StartupError). */
  signal?: AbortSignal | undefined;
  /** Why the gateway is not connected yet (close code, HTTP status), while start-up waits for it. */
  report?: ((problem: string) => void) | undefined;
}

export function inviteUrl(applicationId: string): string {
  const params = new URLSearchParams({
    client_id: applicationId,
    scope: INVITE_SCOPES.join(' '),
    permissions: INVITE_PERMISSIONS.toString(),
  });
  return `https://discord.com/oauth2/authorize?${params.toString()}`;
}

/** A discord.js permission name (e.g. ManageGuild) as a bitfield, or an error naming the config key. */
export function resolvePermission(name: string): bigint {
  if (!Object.hasOwn(PermissionFlagsBits, name)) {
    throw new Error(
      `discord.adminPermission: "${name}" is not a Discord permission name (for example ManageGuild, Administrator, ManageChannels)`,
    );
  }
  return PermissionsBitField.resolve(name as PermissionResolvable);
}

/** `https://host/api` or `https://host/api/v10` → the base discord.js expects (it adds the version). */
export function restBase(apiUrl: string): string {
  return apiUrl.replace(/\/+$/, '').replace(/\/v\d+$/, '');
}

export async function startDiscord({
  config,
  service,
  log: parentLog,
  signal,
  report,
}: StartDiscordOptions): Promise<DiscordHandle> {
  const log = parentLog.child({ component: 'discord' });
  const { token, apiUrl } = config.discord;
  if (!token)
    throw new Error(
      'discord.token is required. Set DISCORD_TOKEN to the bot token from the Discord developer portal.',
    );
  const adminPermission = resolvePermission(config.discord.adminPermission);
  // A fresh client per login attempt: a destroyed discord.js client cannot log in again.
  const newClient = (): Client => {
    const c = new Client({
      // No privileged intent by default: mentions and DMs carry their content without Message Content.
      intents: [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.GuildMessages,
        GatewayIntentBits.DirectMessages,
        ...(config.discord.messageContentIntent ? [GatewayIntentBits.MessageContent] : []),
      ],
      partials: [Partials.Channel],
      // Bounded caches: the defaults keep every user and member, and 200 messages per channel.
      ...cacheOptions(),
      allowedMentions: NO_PINGS,
      ...(apiUrl ? { rest: { api: restBase(apiUrl) } } : {}),
      ...(config.discord.shards === 'auto' ? { shards: 'auto' as const } : {}),
      ...(Array.isArray(config.discord.shards)
        ? { shards: config.discord.shards, shardCount: config.discord.shardCount ?? 1 }
        : {}),
    });
    guardPackets(c, log);
    boundDmChannels(c, config.discord.cachedDmChannels);
    wire(c);
    return c;
  };
  let client = newClient();

  let ready = false;
  let paused = false;
  // Set just before our own client.destroy(): the gateway closing then is no lost connection.
  let destroying = false;
  // Why the gateway is not connected (latest close code or error), cleared once it is.
  let problem: string | undefined;
  const setProblem = (why: string) => {
    problem = why;
    if (!ready) report?.(why);
  };
  let markReady: () => void = () => {};
  const whenReady = new Promise<void>((resolve) => (markReady = resolve));
  const handle: DiscordHandle = {
    name: 'discord',
    get client() {
      return client;
    },
    get ready() {
      return ready;
    },
    // Also false while the gateway connection is down and discord.js is reconnecting.
    isReady: () => ready && client.isReady(),
    problem: () => (client.isReady() ? undefined : problem),
    whenReady,
    inviteUrl: undefined,
    pause() {
      paused = true;
    },
    // Crash recovery edits an answer the previous run left half-written.
    editor: discordEditor(client.rest),
    async stop() {
      paused = true;
      ready = false;
      destroying = true;
      await client.destroy();
    },
  };

  function wire(client: Client): void {
    client.once(Events.ClientReady, async (c) => {
      handle.inviteUrl = inviteUrl(c.application.id);
      log.info(
        { user: c.user.tag, id: c.user.id, guilds: c.guilds.cache.size, invite: handle.inviteUrl },
        `logged in to Discord as ${c.user.tag}`,
      );
      problem = undefined;
      await registerCommands(c, service, config.discord.guildIds, log);
      ready = true;
      markReady();
    });

    client.on(Events.MessageCreate, (message) => {
      void onMessage(message).catch((err: unknown) =>
        log.error({ err, message: message.id }, 'message handling failed'),
      );
    });

    async function onMessage(message: Message): Promise<void> {
      const botId = client.user?.id;
      if (!botId || message.author.id === botId) return;
      const opts: InboundOptions = {
        botId,
        mentionRoleIds: config.discord.mentionRoleIds,
        maxAttachmentBytes: config.discord.maxAttachmentBytes,
        downloadTimeoutMs: config.attachments.downloadTimeoutMs,
        adminPermission,
      };
      const incoming = toIncoming(message, opts);
      if (!incoming.addressed) return;
      if (addressedBy(message, opts) === 'reply' && !message.content && message.attachments.size === 0) {
        // Without the Message Content intent, a reply that does not ping the bot arrives without content.
        log.debug(
          { message: message.id },
          'reply to the bot arrived without content (reply ping off); not answered',
        );
        return;
      }
      if (!message.channel.isSendable()) return;
      const locale = incoming.author.locale;
      const surface = new DiscordReplySurface({
        channel: message.channel,
        replyTo: message,
        minEditIntervalMs: config.streaming.minEditIntervalMs,
        stopLabel: t(toLocale(locale, config.locale), 'stop.button'),
        ...(locale ? { locale } : {}),
      });
      if (paused) {
        // Shutting down: the service no longer takes turns, but the person still hears why (README).
        if (incoming.author.isBot) return;
        log.info({ message: message.id }, 'shutting down; asked to try again later');
        await surface.post(t(toLocale(locale, config.locale), 'status.shutting_down'));
        return;
      }
      try {
        const outcome = await service.handleMessage(incoming, surface);
        log.debug({ message: message.id, status: outcome.status }, 'message handled');
      } catch (err) {
        // The core should end every reply itself; if it threw, still tell the user rather than stay silent.
        log.error({ err, message: message.id }, 'chat service failed');
        await surface.post(t(toLocale(locale, config.locale), 'error.internal')).catch(() => undefined);
      }
    }

    client.on(Events.InteractionCreate, (interaction) => {
      void handleInteraction(interaction, { service, log, adminPermission }).catch((err: unknown) =>
        log.error({ err, interaction: interaction.id }, 'interaction handling failed'),
      );
    });

    client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
    // ShardDisconnect only fires when discord.js gives up; a dropped connection it repairs shows up as
    // reconnecting, then resumed (or ready again after a fresh IDENTIFY).
    client.on(Events.ShardDisconnect, (event, shard) => {
      if (destroying) log.debug({ code: event.code, shard }, 'discord gateway closed (shutdown)');
      else log.warn({ code: event.code, shard }, 'discord gateway disconnected');
    });
    client.on(Events.ShardReconnecting, (shard) => {
      if (destroying) log.debug({ shard }, 'discord gateway closed (shutdown)');
      else if (!ready) log.debug({ shard, reason: problem }, 'discord gateway not connected yet; retrying');
      else log.warn({ shard, reason: problem }, 'discord gateway connection lost; reconnecting');
    });
    client.on(Events.ShardResume, (shard, replayed) => {
      problem = undefined;
      log.info({ shard, replayed }, 'discord gateway resumed');
    });
    client.on(Events.ShardError, (err, shard) => {
      // e.g. "Unexpected server response: 503" when the gateway refuses the websocket.
      setProblem(`gateway error: ${err.message}`);
      log.warn({ err, shard }, 'discord gateway error');
    });
    // discord.js waits out 429s itself; operators still want to see them.
    client.rest.on('rateLimited', (info) =>
      log.warn(
        {
          method: info.method,
          route: info.route,
          retryAfterMs: info.retryAfter,
          global: info.global,
          scope: info.scope,
        },
        'discord rate limited',
      ),
    );
  }

  if (signal?.aborted) throw new StartupError('Discord: start-up given up');
  setProblem('gateway handshake not finished (no READY yet)');
  // Given up (a signal during start-up): destroy the client; login may never settle on its own.
  let giveUp: (err: Error) => void = () => undefined;
  const givenUp = new Promise<never>((_, reject) => (giveUp = reject));
  givenUp.catch(() => undefined);
  const onAbort = () => {
    destroying = true;
    void client.destroy().catch(() => undefined);
    // Aborted before the gateway connection opened, login may still connect: close it then too.
    void loggingIn?.finally(() => client.destroy()).catch(() => undefined);
    giveUp(new StartupError('Discord: start-up given up'));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let loggingIn: Promise<unknown> | undefined;
  for (;;) {
    loggingIn = client.login(token);
    watchGatewayCloses(client, (code) => {
      if (destroying) return;
      const name = GatewayCloseCodes[code];
      setProblem(`gateway closed the connection with code ${code}${name ? ` (${name})` : ''}`);
    });
    try {
      await Promise.race([loggingIn, givenUp]);
      break;
    } catch (err) {
      if (signal?.aborted) throw err;
      await client.destroy().catch(() => undefined);
      const why = err instanceof Error ? err.message : String(err);
      if (!OUTAGE.test(why)) {
        const where = apiUrl ? ` at ${restBase(apiUrl)}` : '';
        throw new StartupError(
          `Discord login failed${where}: ${why}. Check DISCORD_TOKEN (and DISCORD_API_URL if set).`,
        );
      }
      // The gateway is down or refusing us (5xx, 429, network): try again until start-up gives up.
      setProblem(`gateway error: ${why}`);
      log.debug({ reason: why }, 'discord gateway not reachable yet; retrying');
      await Promise.race([new Promise((r) => setTimeout(r, LOGIN_RETRY_MS)), givenUp]);
      client = newClient();
    }
  }
  // Connected: from now on only handle.stop() ends the client (the signal covers start-up alone).
  signal?.removeEventListener('abort', onAbort);
  handle.editor = discordEditor(client.rest);
  return handle;
}

/**
 * The close code of every gateway connection, from @discordjs/ws's manager (discord.js only passes it
 * on for the codes it gives up on). It exists once login() has begun; without it, no codes are seen.
 */
function watchGatewayCloses(client: Client, onClose: (code: number) => void): void {
  const manager = (client.ws as unknown as { _ws?: { on?: (event: string, fn: (e: never) => void) => void } })
    ._ws;
  manager?.on?.('closed', (e: { code: number }) => onClose(e.code));
}

/**
 * discord.js turns a gateway event it cannot parse (a null payload, a field of the wrong type) into an
 * unhandled rejection, which stops a Node process. Such an event is logged and skipped instead.
 */
function guardPackets(client: Client, log: Logger): void {
  const ws = client.ws as unknown as { handlePacket?: (packet: unknown, shard: unknown) => boolean };
  const original = ws.handlePacket;
  if (typeof original !== 'function') {
    log.debug('discord.js has no handlePacket; malformed gateway events are not guarded');
    return;
  }
  ws.handlePacket = function guarded(this: unknown, packet: unknown, shard: unknown): boolean {
    try {
      return original.call(this, packet, shard);
    } catch (err) {
      log.warn(
        { err, event: (packet as { t?: unknown } | null)?.t },
        'discord gateway event could not be processed; skipped',
      );
      return true;
    }
  };
}

async function registerCommands(
  client: Client<true>,
  service: ChatService,
  guildIds: string[],
  log: Logger,
): Promise<void> {
  const body = service.commands().map(toApplicationCommand);
  const appId = client.application.id;
  try {
    if (guildIds.length === 0) {
      await client.rest.put(Routes.applicationCommands(appId), { body });
      log.info({ commands: body.length }, 'registered global slash commands');
      return;
    }
    for (const guildId of guildIds) {
      await client.rest.put(Routes.applicationGuildCommands(appId, guildId), { body });
    }
    log.info({ commands: body.length, guilds: guildIds }, 'registered guild slash commands');
  } catch (err) {
    log.error({ err }, 'registering slash commands failed; existing commands stay as they were');
  }
}
