/**
 * What the discord.js client keeps in memory. Its defaults hold 200 messages per channel and every user
 * and member it ever saw, forever: memory grows with every channel and person that talks. The adapter
 * reads each message once, when it arrives (the member and mentions come in the payload and are
 * resolved synchronously), edits by id over REST, and takes Stop from the interaction payload, so the
 * caches only need the guilds, their channels and roles, and the bot's own user and member.
 * discord.js does not support limiting the guild, channel and role caches, so those keep its defaults;
 * DM channels, one per person who wrote to the bot, are bounded by `boundDmChannels`; the REST
 * client's rate-limit handlers (one per route and channel) by `restOptions`.
 */
import { type Client, type ClientOptions, Events, Options } from 'discord.js';

/**
 * Messages per channel: none is read back from the cache (a message is read when it arrives, edited by
 * id, and Stop comes with its message in the interaction). Keeping even a few cost ~5 MB of heap per
 * 1,000 channels in the memory bench.
 */
export const MESSAGES_PER_CHANNEL = 0;
/**
 * Members per guild besides the bot's own. The author's member is resolved right after discord.js adds
 * it (same tick), so a small window is enough; it also covers a few mentions in one message.
 */
export const MEMBERS_PER_GUILD = 20;
export function cacheOptions(): Pick<ClientOptions, 'makeCache' | 'sweepers'> {
  return {
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      MessageManager: MESSAGES_PER_CHANNEL,
      UserManager: {
        maxSize: 0,
        keepOverLimit: (user) => user.id === user.client.user?.id,
      },
      GuildMemberManager: {
        maxSize: MEMBERS_PER_GUILD,
        keepOverLimit: (member) => member.id === member.client.user?.id,
      },
      // Nothing the bot does reads these.
      PresenceManager: 0,
      ReactionManager: 0,
      ReactionUserManager: 0,
      VoiceStateManager: 0,
      GuildScheduledEventManager: 0,
      StageInstanceManager: 0,
      GuildInviteManager: 0,
      GuildBanManager: 0,
      ThreadMemberManager: 0,
    }),
    sweepers: {
      ...Options.DefaultSweeperSettings,
      // Archived threads leave after an hour (the default keeps them 4 h), checked every 30 min.
      threads: { interval: 1800, lifetime: 3600 },
    },
  };
}

/**
 * How often @discordjs/rest forgets its idle rate-limit handlers. It makes one per route and channel
 * (posting, editing and typing in a channel are three: ~400 B each, 1.2 MB of heap per 1,000 channels
 * in the memory bench) and its default sweeps them hourly, so every channel answered in the last hour
 * kept its three. A sweep drops every handler with nothing queued and no limit running at that
 * moment, however recently it was used; a new one starts from the next response's rate-limit headers,
 * as the old one had, and the pacer spaces the requests anyway. A sweep walks the handlers once
 * (0.2 ms for 3,000): every 10 s, the handlers held are those of channels busy since the last sweep,
 * and a bot quiet for 10 s holds none (the memory bench measures after 10 s of quiet).
 */
export const REST_HANDLER_SWEEP_MS = 10_000;

export function restOptions(): NonNullable<ClientOptions['rest']> {
  return { handlerSweepInterval: REST_HANDLER_SWEEP_MS };
}

/**
 * Keeps the `keep` most recently used DM channels in discord.js's channel cache and forgets the rest.
 * discord.js adds one per person who writes to the bot and never drops it, and `makeCache` cannot limit
 * the channel cache. A forgotten channel costs nothing: the bot receives DMs with Partials.Channel (a
 * DM from an uncached channel creates it again), and answers already running hold their own reference.
 */
export function boundDmChannels(client: Client, keep: number): void {
  // Ids in order of last use (a Set keeps insertion order; re-adding moves an id to the end).
  const recent = new Set<string>();
  client.on(Events.MessageCreate, (message) => {
    if (!message.channel.isDMBased()) return;
    recent.delete(message.channelId);
    recent.add(message.channelId);
    for (const id of recent) {
      if (recent.size <= keep) break;
      recent.delete(id);
      client.channels.cache.delete(id);
    }
  });
}
