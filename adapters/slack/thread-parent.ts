/**
 * Reply context on Slack. A mention inside a thread the bot follows already has its context (the
 * thread is the conversation, and its history is stored). What the bot lacks is a thread between
 * people that someone pulls it into: its first mention there brings the thread's parent message
 * (text and files) into the turn, as a quote. One `conversations.replies` call, which Slack limits
 * to about one a minute for apps outside the Marketplace: a call refused for the rate is not waited
 * for; the question is answered without the parent.
 */
import type { webApi } from '@slack/bolt';
import type { QuotedMessage } from '../../src/core/types.ts';
import type { Logger } from '../../src/log.ts';
import { mentionedUsers, readableText, type SlackMessageEvent } from './events.ts';
import { type SlackFile, slackAttachments } from './files.ts';
import type { UserDirectory } from './users.ts';

export interface ParentDeps {
  /** A client that does not wait out 429s (the answer would wait a minute). */
  client: webApi.WebClient;
  users: UserDirectory;
  botUserId: string;
  botToken: string;
  apiUrl: string | undefined;
  downloadTimeoutMs: number;
  log: Logger;
}

interface ParentMessage {
  user?: string;
  bot_id?: string;
  text?: string;
  files?: SlackFile[];
}

/** The parent of the thread this reply is in, as a quote; undefined when it is the bot's or unavailable. */
export async function threadParentQuote(
  deps: ParentDeps,
  event: SlackMessageEvent,
): Promise<QuotedMessage | undefined> {
  const threadTs = event.thread_ts;
  if (!threadTs || threadTs === event.ts) return undefined;
  let parent: ParentMessage | undefined;
  try {
    const res = await deps.client.conversations.replies({
      channel: event.channel,
      ts: threadTs,
      limit: 1,
      inclusive: true,
    });
    parent = res.messages?.[0] as ParentMessage | undefined;
  } catch (err) {
    deps.log.warn({ err, ts: event.ts }, 'could not read the thread’s first message; answering without it');
    return undefined;
  }
  if (!parent?.user || parent.bot_id || parent.user === deps.botUserId) return undefined;
  const raw = parent.text ?? '';
  const names = await deps.users.names(mentionedUsers(raw).filter((id) => id !== deps.botUserId));
  const text = readableText(raw, deps.botUserId, names);
  const attachments = slackAttachments(parent.files, deps.botToken, deps.apiUrl, deps.downloadTimeoutMs);
  if (!text && attachments.length === 0) return undefined;
  const author = (await deps.users.get(parent.user)).name;
  return { author, text, attachments };
}
