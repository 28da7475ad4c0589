/**
 * Message context-menu commands (Apps → "Translate", "Summarize thread"): registered with the slash
 * commands, answered privately (ephemeral). Translate reads the target message, which Discord always
 * hands the bot; Summarize reads the thread or the channel's latest messages, which needs Read Message
 * History and, for other people's text, the Message Content intent (`discord.messageContentIntent`).
 */
import {
  ApplicationCommandType,
  ContextMenuCommandBuilder,
  DiscordAPIError,
  type Interaction,
  InteractionContextType,
  type Message,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  RESTJSONErrorCodes,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from 'discord.js';
import type { MessageActionContext, MessageActions, ThreadLine } from '../../src/core/message-actions.ts';
import { splitMessage } from '../../src/core/split.ts';
import type { Author, ConversationRef } from '../../src/core/types.ts';
import { t } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import { DISCORD_MAX_CHARS, NO_PINGS } from './surface.ts';

export const TRANSLATE_COMMAND = 'Translate';
export const SUMMARIZE_COMMAND = 'Summarize thread';
/** Discord returns at most 100 messages per `GET /channels/{id}/messages`. */
const DISCORD_FETCH_MAX = 100;

/** The two message commands as application commands (type 3), in guilds and the bot's DMs. */
export function messageCommandBodies(): RESTPostAPIContextMenuApplicationCommandsJSONBody[] {
  return [TRANSLATE_COMMAND, SUMMARIZE_COMMAND].map((name) =>
    new ContextMenuCommandBuilder()
      .setName(name)
      .setType(ApplicationCommandType.Message)
      .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
      .toJSON(),
  );
}

export function isMessageAction(
  interaction: Interaction,
): interaction is MessageContextMenuCommandInteraction {
  return (
    interaction.isMessageContextMenuCommand() &&
    (interaction.commandName === TRANSLATE_COMMAND || interaction.commandName === SUMMARIZE_COMMAND)
  );
}

export interface MessageActionDeps {
  actions: MessageActions;
  log: Logger;
  /** Whether the bot was granted the Message Content intent (it reads others' text only then). */
  messageContentIntent: boolean;
}

export async function runMessageAction(
  interaction: MessageContextMenuCommandInteraction,
  author: Author,
  conversation: ConversationRef,
  deps: MessageActionDeps,
): Promise<void> {
  // Private: a translation or a summary of a private thread is for the person who asked.
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const ctx: MessageActionContext = {
    id: `discord:interaction:${interaction.id}`,
    conversation,
    author,
    receivedAt: interaction.createdTimestamp,
  };
  const text =
    interaction.commandName === TRANSLATE_COMMAND
      ? (await deps.actions.translate(ctx, readable(interaction.targetMessage))).text
      : await summarize(interaction, ctx, deps);
  const parts = splitMessage(text || '-', DISCORD_MAX_CHARS).map((p) => p.text);
  await interaction.editReply({ content: parts.shift() ?? '-', allowedMentions: NO_PINGS });
  for (const part of parts) {
    await interaction.followUp({ content: part, allowedMentions: NO_PINGS, flags: MessageFlags.Ephemeral });
  }
}

async function summarize(
  interaction: MessageContextMenuCommandInteraction,
  ctx: MessageActionContext,
  deps: MessageActionDeps,
): Promise<string> {
  const locale = deps.actions.localeOf(ctx.author);
  const channel = interaction.channel ?? (await interaction.client.channels.fetch(interaction.channelId));
  if (!channel || !('messages' in channel)) {
    return t(locale, 'action.summarize_unreadable', { why: 'not a text channel' });
  }
  let fetched: Message[];
  try {
    // Newest first: the thread itself (a thread is a channel), or the channel's latest messages.
    const limit = Math.min(deps.actions.maxMessages, DISCORD_FETCH_MAX);
    fetched = [...(await channel.messages.fetch({ limit })).values()];
  } catch (err) {
    deps.log.warn({ err, channel: interaction.channelId }, 'could not read the messages to summarize');
    const denied =
      err instanceof DiscordAPIError &&
      (err.code === RESTJSONErrorCodes.MissingAccess || err.code === RESTJSONErrorCodes.MissingPermissions);
    const why = denied ? 'it needs the Read Message History permission in this channel' : 'Discord refused';
    return t(locale, 'action.summarize_unreadable', { why });
  }
  const botId = interaction.client.user.id;
  const lines: ThreadLine[] = fetched.reverse().map((m) => ({
    author: m.member?.displayName ?? m.author.displayName,
    text: readable(m),
  }));
  const othersUnread = fetched.some((m) => m.author.id !== botId && !m.content && m.attachments.size === 0);
  if (othersUnread && !deps.messageContentIntent && lines.every((l) => !l.text.trim())) {
    const why = 'Discord shows it other people’s messages only with the Message Content intent';
    return t(locale, 'action.summarize_unreadable', { why });
  }
  return (await deps.actions.summarize(ctx, lines)).text;
}

/** The model reads names, not ids: `<@123>` becomes `@Alice` (the reply is sent without pings anyway). */
function readable(m: Message): string {
  return m.content.replace(/<@!?(\d+)>/g, (_, id: string) => {
    const name = m.mentions.members?.get(id)?.displayName ?? m.mentions.users.get(id)?.displayName;
    return `@${name ?? 'someone'}`;
  });
}
