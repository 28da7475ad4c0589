/**
 * Inbound translation: a discord.js Message becomes the core's IncomingMessage. Decides whether the bot
 * was addressed (its user mentioned, a reply to it, a DM, or a configured role mentioned), cleans the
 * text, wraps attachments so the core can load them with a size limit, and fetches the message a reply
 * quotes.
 */
import { type Message, MessageFlags, MessageReferenceType, type PermissionResolvable } from 'discord.js';
import type {
  Attachment,
  Author,
  ConversationRef,
  IncomingMessage,
  QuotedMessage,
} from '../../src/core/types.ts';
import { downloadLimited } from '../../src/platform-download.ts';

export interface InboundOptions {
  botId: string;
  /** Role ids whose mention addresses the bot. */
  mentionRoleIds: readonly string[];
  maxAttachmentBytes: number;
  /** One download's deadline (attachments.downloadTimeoutMs). */
  downloadTimeoutMs: number;
  adminPermission: PermissionResolvable;
}

/** The conversation a channel belongs to: threads are their own conversation under their parent. */
export function conversationOf(
  channel: { id: string; isThread(): boolean; parentId?: string | null } | null,
  channelId: string,
  guildId: string | null,
): ConversationRef {
  if (!guildId) return { platform: 'discord', workspace: 'dm', channel: channelId, isDM: true };
  if (channel?.isThread() && channel.parentId) {
    return {
      platform: 'discord',
      workspace: guildId,
      channel: channel.parentId,
      thread: channel.id,
      isDM: false,
    };
  }
  return { platform: 'discord', workspace: guildId, channel: channelId, isDM: false };
}

export type AddressedBy = 'dm' | 'mention' | 'reply' | 'role';

/** Why the message is for the bot, or undefined when it is not. */
export function addressedBy(message: Message, opts: InboundOptions): AddressedBy | undefined {
  if (!message.inGuild()) return 'dm';
  // A direct user mention in the text; @everyone/@here and reply pings do not count here.
  if (new RegExp(`<@!?${opts.botId}>`).test(message.content)) return 'mention';
  if (message.reference?.messageId && message.mentions.repliedUser?.id === opts.botId) return 'reply';
  if (opts.mentionRoleIds.some((id) => message.mentions.roles.has(id))) return 'role';
  return undefined;
}

/** Removes the bot's own mention and turns other mentions into readable names. */
export function cleanText(message: Message, opts: InboundOptions): string {
  const { guild } = message;
  return message.content
    .replace(new RegExp(`<@!?${opts.botId}>`, 'g'), ' ')
    .replace(/<@!?(\d+)>/g, (raw, id: string) => {
      const member = message.mentions.members?.get(id) ?? guild?.members.cache.get(id);
      const user = message.mentions.users.get(id) ?? message.client.users.cache.get(id);
      const name = member?.displayName ?? user?.displayName;
      return name ? `@${name}` : raw;
    })
    .replace(/<@&(\d+)>/g, (raw, id: string) => {
      if (opts.mentionRoleIds.includes(id)) return ' ';
      const role = guild?.roles.cache.get(id);
      return role ? `@${role.name}` : raw;
    })
    .replace(/<#(\d+)>/g, (raw, id: string) => {
      const ch = message.client.channels.cache.get(id);
      return ch && 'name' in ch && ch.name ? `#${ch.name}` : raw;
    })
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

export function authorOf(message: Message, opts: InboundOptions): Author {
  const member = message.member;
  const isAdmin = message.inGuild()
    ? message.guild.ownerId === message.author.id || (member?.permissions.has(opts.adminPermission) ?? false)
    : false;
  return {
    id: message.author.id,
    name: member?.displayName ?? message.author.displayName,
    isBot: message.author.bot,
    isAdmin,
    // Messages carry no user locale; the server's preferred locale is the best guess.
    ...(message.guild?.preferredLocale ? { locale: message.guild.preferredLocale } : {}),
  };
}

/** The message's attachments, loaded on demand within the size limit and download deadline. */
function attachmentsOf(message: Message, opts: InboundOptions): Attachment[] {
  // A voice message (flag IS_VOICE_MESSAGE) is one .ogg attachment with its duration; audio files count too.
  const voiceMessage = message.flags.has(MessageFlags.IsVoiceMessage);
  return [...message.attachments.values()].map((a) => ({
    name: a.name,
    mime: a.contentType ?? '',
    size: a.size,
    load: () =>
      downloadLimited(a.url, { maxBytes: opts.maxAttachmentBytes, timeoutMs: opts.downloadTimeoutMs }),
    ...(voiceMessage || a.contentType?.startsWith('audio/')
      ? { voice: a.duration != null ? { seconds: a.duration } : {} }
      : {}),
  }));
}

/**
 * The message this one replies to, as a quote for the turn, when it is someone else's (a reply to the
 * bot's own message continues the conversation, whose history already holds it). Fetched over REST:
 * the client caches no messages (caches.ts). Undefined when there is none, or it cannot be fetched;
 * `unreadable` when Discord sent it without content (no Message Content intent).
 */
export async function quotedOf(
  message: Message,
  opts: InboundOptions & { messageContentIntent: boolean },
): Promise<{ quoted: QuotedMessage } | { unreadable: true } | undefined> {
  const ref = message.reference;
  // A forward (type 1) carries its own snapshot and is no reply; an absent type is a reply.
  const forward = (ref?.type ?? MessageReferenceType.Default) !== MessageReferenceType.Default;
  if (!ref?.messageId || forward || ref.channelId !== message.channelId) return undefined;
  if (message.mentions.repliedUser?.id === opts.botId) return undefined;
  const replied = await message.channel.messages.fetch({ message: ref.messageId, cache: false });
  if (replied.author.id === opts.botId) return undefined;
  const attachments = attachmentsOf(replied, opts);
  const text = cleanText(replied, opts);
  if (!text && attachments.length === 0) return opts.messageContentIntent ? undefined : { unreadable: true };
  const author = replied.member?.displayName ?? replied.author.displayName;
  return { quoted: { author, text, attachments } };
}

export function toIncoming(message: Message, opts: InboundOptions): IncomingMessage {
  return {
    id: message.id,
    conversation: conversationOf(message.channel, message.channelId, message.guildId),
    author: authorOf(message, opts),
    text: cleanText(message, opts),
    attachments: attachmentsOf(message, opts),
    addressed: addressedBy(message, opts) !== undefined,
    botUserId: opts.botId,
    receivedAt: Date.now(),
  };
}
