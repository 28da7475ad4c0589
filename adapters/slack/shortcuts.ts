/**
 * Message shortcuts (the ⋯ menu on any message): "Translate" and "Summarize thread". Acked at once,
 * answered privately through the shortcut's response_url (ephemeral: only the person who asked sees it).
 * Summarize reads the thread (`conversations.replies`) or the channel's latest messages
 * (`conversations.history`); for apps outside the Slack Marketplace Slack serves both about once a
 * minute and 15 messages, so a 429 becomes a line to try again instead of a minute-long wait.
 */
import type { App, MessageShortcut, webApi } from '@slack/bolt';
import type { MessageActionContext, MessageActions, ThreadLine } from '../../src/core/message-actions.ts';
import type { ConversationRef } from '../../src/core/types.ts';
import { t } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import { MESSAGE_SHORTCUTS } from './capabilities.ts';
import { isDirectChannel } from './events.ts';
import { toMrkdwn } from './format.ts';
import type { UserDirectory } from './users.ts';

/** Apps outside the Marketplace get at most 15 messages per conversations.history / replies call. */
const SLACK_READ_MAX = 15;

export interface ShortcutDeps {
  actions: MessageActions;
  /** A client that hands 429s back at once (`rejectRateLimitedCalls`) rather than waiting a minute. */
  readClient: webApi.WebClient;
  users: UserDirectory;
  teamId: string;
  log: Logger;
  track: (work: Promise<unknown>) => void;
}

export function listenForShortcuts(app: App, deps: ShortcutDeps): void {
  for (const callbackId of Object.keys(MESSAGE_SHORTCUTS) as Array<keyof typeof MESSAGE_SHORTCUTS>) {
    app.shortcut<MessageShortcut>({ callback_id: callbackId, type: 'message_action' }, async (args) => {
      await args.ack();
      const { shortcut, respond } = args;
      deps.track(
        (async () => {
          const text = await answer(callbackId, shortcut, deps);
          await respond({ response_type: 'ephemeral', replace_original: false, text: toMrkdwn(text) });
        })().catch((err: unknown) =>
          deps.log.error({ err, shortcut: callbackId }, 'message shortcut failed'),
        ),
      );
    });
  }
}

async function answer(
  callbackId: keyof typeof MESSAGE_SHORTCUTS,
  shortcut: MessageShortcut,
  deps: ShortcutDeps,
): Promise<string> {
  const author = await deps.users.get(shortcut.user.id);
  const threadTs = typeof shortcut.message.thread_ts === 'string' ? shortcut.message.thread_ts : undefined;
  const conversation: ConversationRef = {
    platform: 'slack',
    workspace: shortcut.team?.id ?? deps.teamId,
    channel: shortcut.channel.id,
    ...(threadTs ? { thread: threadTs } : {}),
    isDM: isDirectChannel(shortcut.channel.id),
  };
  const ctx: MessageActionContext = {
    id: `slack:shortcut:${shortcut.trigger_id}`,
    conversation,
    author,
    receivedAt: Date.now(),
  };
  if (callbackId === 'translate_message') {
    const text = await withNames(shortcut.message.text ?? '', deps.users);
    return (await deps.actions.translate(ctx, text)).text;
  }
  const read = await readMessages(shortcut.channel.id, threadTs, deps);
  const locale = deps.actions.localeOf(author);
  if ('limited' in read) return t(locale, 'action.summarize_read_limited', { seconds: read.limited });
  if ('failed' in read) return t(locale, 'action.summarize_unreadable', { why: read.failed });
  const names = await deps.users.names([...new Set(read.messages.map((m) => m.user ?? ''))].filter(Boolean));
  const lines: ThreadLine[] = [];
  for (const m of read.messages) {
    const author = m.bot_id ? 'bot' : (names.get(m.user ?? '') ?? m.user ?? 'someone');
    lines.push({ author, text: await withNames(m.text ?? '', deps.users) });
  }
  return (await deps.actions.summarize(ctx, lines)).text;
}

interface SlackLine {
  user?: string;
  bot_id?: string;
  text?: string;
}

type Read = { messages: SlackLine[] } | { limited: number } | { failed: string };

/** The thread (parent first) or the channel's latest messages (oldest first). */
async function readMessages(
  channel: string,
  threadTs: string | undefined,
  deps: ShortcutDeps,
): Promise<Read> {
  const limit = Math.min(deps.actions.maxMessages, SLACK_READ_MAX);
  try {
    if (threadTs) {
      const res = await deps.readClient.conversations.replies({ channel, ts: threadTs, limit });
      return { messages: (res.messages ?? []) as SlackLine[] };
    }
    const res = await deps.readClient.conversations.history({ channel, limit });
    return { messages: ((res.messages ?? []) as SlackLine[]).reverse() };
  } catch (err) {
    const e = err as { code?: string; retryAfter?: number; data?: { error?: string } };
    if (e.code === 'slack_webapi_rate_limited_error') {
      deps.log.warn(
        { channel, retryAfter: e.retryAfter },
        'Slack rate-limited reading messages to summarize',
      );
      return { limited: e.retryAfter ?? 60 };
    }
    deps.log.warn({ err, channel }, 'could not read the messages to summarize');
    const code = e.data?.error;
    return {
      failed:
        code === 'not_in_channel' || code === 'channel_not_found'
          ? 'invite the bot to this channel first'
          : (code ?? 'Slack refused'),
    };
  }
}

const USER_MENTION = /<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g;

/** `<@U123>` as `@Alice`: the model reads names, and so does the person reading the answer. */
async function withNames(text: string, users: UserDirectory): Promise<string> {
  const ids = [...new Set([...text.matchAll(USER_MENTION)].map((m) => m[1] ?? ''))];
  if (ids.length === 0) return text;
  const names = await users.names(ids);
  return text.replace(USER_MENTION, (_, id: string) => `@${names.get(id) ?? id}`);
}
