/**
 * The discord.js client as the adapter needs it: its options (intents, bounded caches, API base,
 * shards), and two things discord.js does not offer: every gateway close code, and a gateway event it
 * cannot parse logged and skipped instead of crashing the process.
 */
import { Client, GatewayIntentBits, Partials } from 'discord.js';
import type { Config } from '../../src/config/schema.ts';
import type { Logger } from '../../src/log.ts';
import { boundDmChannels, cacheOptions, restOptions } from './caches.ts';
import { NO_PINGS } from './surface.ts';

/** Login failures that are an outage, not a configuration problem: retried until start-up gives up. */
export const OUTAGE = /Unexpected server response: (5\d\d|429)|ECONNRESET|ETIMEDOUT|EAI_AGAIN|socket hang up/;

/** `https://host/api` or `https://host/api/v10` → the base discord.js expects (it adds the version). */
export function restBase(apiUrl: string): string {
  return apiUrl.replace(/\/+$/, '').replace(/\/v\d+$/, '');
}

/** A fresh client (a destroyed discord.js client cannot log in again), guarded against bad packets. */
export function newDiscordClient(discord: Config['discord'], log: Logger): Client {
  const client = new Client({
    // No privileged intent by default: mentions and DMs carry their content without Message Content.
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.DirectMessages,
      ...(discord.messageContentIntent ? [GatewayIntentBits.MessageContent] : []),
    ],
    partials: [Partials.Channel],
    // Bounded caches: the defaults keep every user and member, and 200 messages per channel.
    ...cacheOptions(),
    allowedMentions: NO_PINGS,
    rest: { ...restOptions(), ...(discord.apiUrl ? { api: restBase(discord.apiUrl) } : {}) },
    ...(discord.shards === 'auto' ? { shards: 'auto' as const } : {}),
    ...(Array.isArray(discord.shards) ? { shards: discord.shards, shardCount: discord.shardCount ?? 1 } : {}),
  });
  guardPackets(client, log);
  boundDmChannels(client, discord.cachedDmChannels);
  return client;
}

/**
 * The close code of every gateway connection, from @discordjs/ws's manager (discord.js only passes it
 * on for the codes it gives up on). It exists once login() has begun; without it, no codes are seen.
 */
export function watchGatewayCloses(client: Client, onClose: (code: number) => void): void {
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
