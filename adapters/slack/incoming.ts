/**
 * A Slack message event as the core's `IncomingMessage`: the author (users.info), the text the model
 * reads, attachments, a quoted thread parent when the bot joins a thread of other people, and, in an
 * assistant thread, which channel the person is viewing.
 */
import type { webApi } from '@slack/bolt';
import type { Config } from '../../src/config/schema.ts';
import type { ConversationRef, IncomingMessage } from '../../src/core/types.ts';
import type { Logger } from '../../src/log.ts';
import type { AssistantThreads } from './assistant.ts';
import { mentionedUsers, messageId, readableText, type SlackMessageEvent } from './events.ts';
import { slackAttachments } from './files.ts';
import { threadParentQuote } from './thread-parent.ts';
import type { UserDirectory } from './users.ts';

/** Why a message is answered, when it is not plainly addressed to the bot. */
export interface Trigger {
  /** Its channel (or thread) is in mode all. */
  byChannelMode?: boolean;
  /** The first mention in a thread of other people: its parent message comes as a quote. */
  quoteParent?: boolean;
}

export interface IncomingDeps {
  config: Config;
  users: UserDirectory;
  botUserId: string;
  /** Client for reading the thread parent. */
  client: webApi.WebClient;
  assistant: AssistantThreads;
  log: Logger;
}

export interface IncomingEvent {
  event: SlackMessageEvent;
  conversation: ConversationRef;
  eventId: string | undefined;
  trigger: Trigger;
}

export async function toIncoming(deps: IncomingDeps, incoming: IncomingEvent): Promise<IncomingMessage> {
  const { event, conversation, eventId, trigger } = incoming;
  const { config, users, botUserId, log } = deps;
  const { botToken, apiUrl } = config.slack;
  const author = await users.get(event.user ?? '');
  const raw = event.text ?? '';
  const names = await users.names(mentionedUsers(raw).filter((id) => id !== botUserId));
  const quoted = trigger.quoteParent
    ? await threadParentQuote(
        {
          client: deps.client,
          users,
          botUserId,
          botToken: botToken ?? '',
          apiUrl,
          downloadTimeoutMs: config.attachments.downloadTimeoutMs,
          log,
        },
        event,
      )
    : undefined;
  const context = await deps.assistant.contextLines(conversation).catch((err: unknown) => {
    log.warn({ err }, 'assistant thread context not read; answering without it');
    return [];
  });
  return {
    ...(trigger.byChannelMode ? { byChannelMode: true } : {}),
    ...(quoted ? { quoted } : {}),
    id: messageId(event),
    ...(eventId ? { eventId } : {}),
    conversation,
    author,
    text: readableText(raw, botUserId, names),
    attachments: slackAttachments(event.files, botToken ?? '', apiUrl, config.attachments.downloadTimeoutMs),
    addressed: true,
    botUserId,
    receivedAt: Date.now(),
    ...(context.length ? { context } : {}),
  };
}
