/**
 * Slack events → the core's `IncomingMessage`. Decides only platform things: which events are messages
 * to consider, which conversation (channel thread or DM) they belong to, and whether they address the bot.
 */
import { type ConversationRef, conversationKey } from '../../src/core/types.ts';
import type { Store } from '../../src/store/index.ts';
import type { SlackFile } from './files.ts';

/** The fields of `app_mention` / `message` events the adapter reads. */
export interface SlackMessageEvent {
  type: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  channel: string;
  channel_type?: string;
  client_msg_id?: string;
  files?: SlackFile[];
}

/** Subtypes that are still a person writing to us; everything else (edits, deletions, joins…) is skipped. */
const PERSON_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

/** Why an event is not a message from a person, or undefined when it is one. */
export function skipReason(event: SlackMessageEvent, botUserId: string): string | undefined {
  if (!PERSON_SUBTYPES.has(event.subtype)) return `subtype ${event.subtype}`;
  if (event.bot_id) return 'bot message';
  if (!event.user) return 'no user';
  if (event.user === botUserId) return 'own message';
  return undefined;
}

/** A 1:1 DM by its id (IM ids start with D); names are chosen by people and prove nothing. */
export function isDirectChannel(channelId: string): boolean {
  return channelId.startsWith('D');
}

export function isDirect(event: SlackMessageEvent): boolean {
  return event.channel_type === 'im' || isDirectChannel(event.channel);
}

/**
 * Where the conversation lives. A channel mention starts (or continues) a thread keyed by its ts; a DM
 * is one conversation unless the person writes inside a thread there.
 */
export function conversationOf(event: SlackMessageEvent, teamId: string): ConversationRef {
  const dm = isDirect(event);
  const thread = dm ? event.thread_ts : (event.thread_ts ?? event.ts);
  return {
    platform: 'slack',
    workspace: teamId,
    channel: event.channel,
    ...(thread ? { thread } : {}),
    isDM: dm,
    ...(!dm && !event.thread_ts ? { opensThread: true } : {}),
  };
}

/** Same id for the `app_mention` and the `message` copy of one message, so the core answers once. */
export function messageId(event: SlackMessageEvent): string {
  return `${event.channel}:${event.ts}`;
}

export function mentionsUser(text: string | undefined, userId: string): boolean {
  return (text ?? '').includes(`<@${userId}>`) || (text ?? '').includes(`<@${userId}|`);
}

/** User ids mentioned in a Slack text (`<@U123>` or `<@U123|name>`). */
export function mentionedUsers(text: string): string[] {
  return [...new Set([...text.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g)].map((m) => m[1] ?? ''))];
}

/**
 * What the model reads: the bot's own mention removed, other people as `@name`, links as their URL
 * (with the label), channels as `#name`, broadcasts as words, entities decoded.
 */
export function readableText(text: string, botUserId: string, names: Map<string, string>): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, label?: string) =>
      id === botUserId ? '' : `@${names.get(id) ?? label ?? id}`,
    )
    .replace(/<#[CG][A-Z0-9]+\|([^>]*)>/g, '#$1')
    .replace(/<#([CG][A-Z0-9]+)>/g, '#$1')
    .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>/g, (_m, label?: string) => label ?? '@group')
    .replace(/<((?:https?|mailto):[^|>]+)\|([^>]+)>/g, (_m, url: string, label: string) =>
      label === url ? url : `mailto:${label}` === url ? label : `${label} (${url})`,
    )
    .replace(/<((?:https?|mailto):[^>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/** Threads the bot answered in, so later messages there are answered without a new mention. */
export class ThreadTracker {
  private readonly store: Store;
  private readonly ttlMs: number;

  constructor(store: Store, ttlMs: number) {
    this.store = store;
    this.ttlMs = ttlMs;
  }

  private key(ref: ConversationRef): string {
    return `slack-thread:v1:${conversationKey(ref)}`;
  }

  async mark(ref: ConversationRef): Promise<void> {
    await this.store.set(this.key(ref), 1, this.ttlMs);
  }

  async has(ref: ConversationRef): Promise<boolean> {
    return (await this.store.get(this.key(ref))) !== undefined;
  }
}
