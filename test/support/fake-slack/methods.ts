/**
 * The Web API methods of the fake, following platform-facts.md: `chat.update` refuses more than 4,000
 * characters, a streamed message holds about 12,000 and closes after about 5 minutes, updating a
 * message that is still streaming conflicts, streams need a thread (and a recipient outside DMs).
 */

import { ASSISTANT_METHODS } from './assistant-methods.ts';
import { fail, type MethodContext, type Params, type Result, str } from './method-kit.ts';
import type { FakeButton, FakeMessage } from './model.ts';
import { applyTasks } from './tasks.ts';

export type { FakeUser, MethodContext, Params, Result } from './method-kit.ts';

export const UPDATE_MAX = 4000;
export const POST_TRUNCATE = 40_000;
export const STREAM_MAX = 12_000;

/** Markdown carried by `markdown_text` and by `markdown_text` chunks. */
function streamText(p: Params): string {
  let text = str(p.markdown_text) ?? '';
  const chunks = Array.isArray(p.chunks) ? p.chunks : [];
  for (const c of chunks) {
    const chunk = c as { type?: string; text?: string };
    if (chunk.type === 'markdown_text' && typeof chunk.text === 'string') text += chunk.text;
  }
  return text;
}

/**
 * What a message with these `blocks` shows: the Markdown of its `markdown` blocks (at most 12,000
 * characters in all) or the mrkdwn of its `section` blocks (3,000 each), and the buttons of its
 * `actions` blocks; `markdown` undefined when it has no text block (then `text`, as mrkdwn, is shown).
 */
function markdownBlocks(blocks: unknown): {
  markdown?: string;
  format?: 'mrkdwn' | 'markdown';
  buttons?: FakeButton[];
  error?: string;
} {
  if (!Array.isArray(blocks)) return {};
  if (blocks.length > 50) return { error: 'invalid_blocks' };
  const buttons: FakeButton[] = [];
  for (const b of blocks as Array<{ type?: string; block_id?: string; elements?: unknown[] }>) {
    if (b.type !== 'actions') continue;
    const elements = (b.elements ?? []) as Array<{
      type?: string;
      action_id?: string;
      value?: string;
      text?: { type?: string; text?: string };
    }>;
    if (elements.length === 0 || elements.length > 25) return { error: 'invalid_blocks' };
    for (const e of elements) {
      if (e.type !== 'button' || !e.action_id || e.text?.type !== 'plain_text' || !e.text.text)
        return { error: 'invalid_blocks' };
      if ((e.value ?? '').length > 2000 || e.text.text.length > 75) return { error: 'invalid_blocks' };
      buttons.push({
        actionId: e.action_id,
        blockId: b.block_id ?? '',
        label: e.text.text,
        value: e.value ?? '',
      });
    }
  }
  const md = blocks.filter(
    (b): b is { type: string; text: string } => (b as { type?: string }).type === 'markdown',
  );
  const sections = blocks.filter(
    (b): b is { type: string; text: { type: string; text: string } } =>
      (b as { type?: string }).type === 'section',
  );
  if (md.length > 0) {
    const markdown = md.map((b) => (typeof b.text === 'string' ? b.text : '')).join('\n');
    if (markdown.length > STREAM_MAX || md.some((b) => !b.text)) return { error: 'invalid_blocks' };
    return { markdown, format: 'markdown', buttons };
  }
  if (sections.length > 0) {
    if (sections.some((b) => !b.text?.text || b.text.text.length > 3000)) return { error: 'invalid_blocks' };
    return { markdown: sections.map((b) => b.text.text).join('\n'), format: 'mrkdwn', buttons };
  }
  return { buttons };
}

function isDM(channel: string): boolean {
  return channel.startsWith('D');
}

function ownMessage(ctx: MethodContext, p: Params): FakeMessage | Result {
  const channel = str(p.channel);
  const ts = str(p.ts);
  if (!channel) return fail('channel_not_found');
  if (!ts) return fail('invalid_arguments');
  const m = ctx.ws.find(channel, ts);
  if (!m) return fail('message_not_found');
  if (m.user !== ctx.bot.userId) return fail('cant_update_message');
  return m;
}

/**
 * A stream Slack closed on its own: after the time limit from its start, or when nothing was appended
 * for a while (both reported as about 5 minutes: vercel/chat#607 and #637, python-slack-sdk#1859). Such
 * a message is left broken until `chat.update` replaces it.
 */
function streamOpen(ctx: MethodContext, m: FakeMessage): boolean {
  if (!m.streaming) return false;
  const now = ctx.now();
  const tooOld = m.streamStartedAt !== undefined && now - m.streamStartedAt > ctx.streamTtlMs;
  const idle = m.lastAppendAt !== undefined && now - m.lastAppendAt > ctx.streamIdleMs;
  if (tooOld || idle) {
    m.streaming = false;
    m.expired = true;
  }
  return m.streaming;
}

export const METHODS: Record<string, (ctx: MethodContext, p: Params) => Result> = {
  ...ASSISTANT_METHODS,
  'auth.test': (ctx) => ({
    ok: true,
    url: `https://${ctx.team.name.toLowerCase()}.slack.com/`,
    team: ctx.team.name,
    user: ctx.bot.name,
    team_id: ctx.team.id,
    user_id: ctx.bot.userId,
    bot_id: ctx.bot.botId,
  }),

  'chat.postMessage': (ctx, p) => {
    const channel = str(p.channel);
    if (!channel) return fail('channel_not_found');
    let text = typeof p.text === 'string' ? p.text : '';
    if (!text.trim() && !p.blocks) return fail('no_text');
    if (text.length > POST_TRUNCATE) text = text.slice(0, POST_TRUNCATE);
    const threadTs = str(p.thread_ts);
    if (threadTs && !ctx.ws.find(channel, threadTs)) return fail('thread_not_found');
    const block = markdownBlocks(p.blocks);
    if (block.error) return fail(block.error);
    const m = ctx.ws.add({
      channel,
      threadTs,
      user: ctx.bot.userId,
      text: block.markdown ?? (block.buttons?.length ? '' : text),
      format: block.format ?? 'mrkdwn',
      bot: true,
      streaming: false,
      buttons: block.buttons ?? [],
      blockText: block.markdown !== undefined,
    });
    return { ok: true, channel, ts: m.ts, message: { text, user: m.user, ts: m.ts, thread_ts: threadTs } };
  },

  // Ephemeral messages go to one user in a channel (optionally in a thread) and answer `message_ts`; they
  // are not part of the channel's messages, cannot be updated with chat.update, and a user who is not in
  // the channel gets `user_not_in_channel`; in a thread they show only if the thread already has replies
  // (Slack's method reference).
  'chat.postEphemeral': (ctx, p) => {
    const channel = str(p.channel);
    if (!channel) return fail('channel_not_found');
    const user = str(p.user);
    if (!user || !ctx.users.has(user)) return fail('user_not_in_channel');
    const text = typeof p.text === 'string' ? p.text : '';
    if (!text.trim() && !p.blocks) return fail('no_text');
    const threadTs = str(p.thread_ts);
    const block = markdownBlocks(p.blocks);
    if (block.error) return fail(block.error);
    const ts = ctx.ws.nextTs();
    ctx.ws.ephemerals.push({
      channel,
      user,
      ...(threadTs ? { threadTs } : {}),
      text: block.markdown ?? text,
      format: block.format ?? 'mrkdwn',
      ts,
      visible: !threadTs || ctx.ws.thread(channel, threadTs).length > 0,
    });
    return { ok: true, message_ts: ts };
  },

  'chat.update': (ctx, p) => {
    const m = ownMessage(ctx, p);
    if ('ok' in m) return m;
    if (streamOpen(ctx, m)) return fail('streaming_state_conflict');
    const text = typeof p.text === 'string' ? p.text : '';
    if (!text.trim() && !p.blocks) return fail('no_text');
    if (text.length > UPDATE_MAX) return fail('msg_too_long');
    const block = markdownBlocks(p.blocks);
    if (block.error) return fail(block.error);
    m.updates++;
    m.expired = false;
    // Without a `blocks` argument Slack keeps the blocks the message had, and they are what shows.
    if (p.blocks === undefined && (m.format === 'markdown' || m.blockText))
      return { ok: true, channel: m.channel, ts: m.ts, text };
    if (p.blocks !== undefined) m.buttons = block.buttons ?? [];
    m.blockText = block.markdown !== undefined;
    ctx.ws.setText(m, block.markdown ?? text);
    m.format = block.format ?? 'mrkdwn';
    return { ok: true, channel: m.channel, ts: m.ts, text };
  },

  'chat.startStream': (ctx, p) => {
    const channel = str(p.channel);
    if (!channel) return fail('channel_not_found');
    const threadTs = str(p.thread_ts);
    if (!threadTs) return fail('invalid_arguments', { detail: 'streams need thread_ts' });
    if (!ctx.ws.find(channel, threadTs)) return fail('thread_not_found');
    if (!isDM(channel) && (!str(p.recipient_user_id) || !str(p.recipient_team_id))) {
      return fail('invalid_arguments', {
        detail: 'recipient_user_id and recipient_team_id are required in channels',
      });
    }
    const text = streamText(p);
    if (text.length > STREAM_MAX) return fail('msg_too_long');
    if (applyTasks(undefined, p) === false)
      return fail('invalid_arguments', { detail: 'bad task_update chunk' });
    const m = ctx.ws.add({
      channel,
      threadTs,
      user: ctx.bot.userId,
      text,
      format: 'markdown',
      bot: true,
      streaming: true,
      streamStartedAt: ctx.now(),
      lastAppendAt: ctx.now(),
    });
    if (text) m.appends++;
    applyTasks(m, p);
    return { ok: true, channel, ts: m.ts };
  },

  'chat.appendStream': (ctx, p) => {
    const m = ownMessage(ctx, p);
    if ('ok' in m) return m;
    if (!streamOpen(ctx, m)) return fail('message_not_in_streaming_state');
    const text = streamText(p);
    const tasks = applyTasks(undefined, p);
    if (tasks === false) return fail('invalid_arguments', { detail: 'bad task_update chunk' });
    if (!text && !tasks) return fail('invalid_arguments', { detail: 'markdown_text or chunks required' });
    if (m.text.length + text.length > STREAM_MAX) return fail('msg_too_long');
    applyTasks(m, p);
    if (text) {
      ctx.ws.setText(m, m.text + text);
      m.appends++;
    }
    m.lastAppendAt = ctx.now();
    return { ok: true, channel: m.channel, ts: m.ts };
  },

  'chat.stopStream': (ctx, p) => {
    const m = ownMessage(ctx, p);
    if ('ok' in m) return m;
    if (!streamOpen(ctx, m)) return fail('message_not_in_streaming_state');
    const text = streamText(p);
    if (m.text.length + text.length > STREAM_MAX) return fail('msg_too_long');
    if (text) {
      ctx.ws.setText(m, m.text + text);
      m.appends++;
    }
    m.streaming = false;
    return { ok: true, channel: m.channel, ts: m.ts, message: { text: m.text, ts: m.ts } };
  },

  'chat.delete': (ctx, p) => {
    const m = ownMessage(ctx, p);
    if ('ok' in m) return m.error === 'cant_update_message' ? fail('cant_delete_message') : m;
    ctx.ws.remove(m);
    return { ok: true, channel: m.channel, ts: m.ts };
  },

  'conversations.info': (ctx, p) => {
    const id = str(p.channel);
    const name = id ? ctx.ws.channelNames.get(id) : undefined;
    if (!id || !name) return fail('channel_not_found');
    return {
      ok: true,
      channel: { id, name, is_channel: id.startsWith('C'), is_private: id.startsWith('G') },
    };
  },

  'users.info': (ctx, p) => {
    const id = str(p.user);
    const u = id ? ctx.users.get(id) : undefined;
    if (!u) return fail('user_not_found');
    return {
      ok: true,
      user: {
        id: u.id,
        team_id: ctx.team.id,
        name: u.name,
        real_name: u.displayName ?? u.name,
        profile: { display_name: u.displayName ?? '', real_name: u.displayName ?? u.name },
        is_admin: u.isAdmin === true,
        is_owner: u.isOwner === true,
        is_primary_owner: false,
        is_bot: u.isBot === true,
        ...(p.include_locale === true || p.include_locale === 'true' ? { locale: u.locale ?? 'en-US' } : {}),
      },
    };
  },

  'apps.connections.open': (ctx) => ({ ok: true, url: ctx.socketUrl() }),

  /** A thread: its parent first, then its replies, at most `limit` (apps outside the Marketplace: 15). */
  'conversations.replies': (ctx, p) => {
    const channel = str(p.channel);
    const ts = str(p.ts);
    if (!channel) return fail('channel_not_found');
    if (!ts) return fail('invalid_arguments');
    const parent = ctx.ws.find(channel, ts);
    if (!parent) return fail('thread_not_found');
    const replies = (ctx.ws.messages.get(channel) ?? []).filter((m) => m.threadTs === ts);
    const limit = Math.min(Number(p.limit ?? 15) || 15, 15);
    const messages = [parent, ...replies].slice(0, limit).map((m) => ({
      type: 'message',
      ts: m.ts,
      ...(m.threadTs ? { thread_ts: m.threadTs } : { thread_ts: m.ts }),
      ...(m.bot ? { bot_id: ctx.bot.botId, user: ctx.bot.userId } : { user: m.user }),
      text: m.text,
      ...(m.files ? { files: m.files } : {}),
    }));
    return { ok: true, messages, has_more: replies.length + 1 > limit };
  },

  /** A channel's top-level messages, newest first, at most `limit` (apps outside the Marketplace: 15). */
  'conversations.history': (ctx, p) => {
    const channel = str(p.channel);
    if (!channel) return fail('channel_not_found');
    const top = (ctx.ws.messages.get(channel) ?? []).filter((m) => !m.threadTs || m.threadTs === m.ts);
    const limit = Math.min(Number(p.limit ?? 15) || 15, 15);
    const messages = top
      .slice(-limit)
      .reverse()
      .map((m) => ({
        type: 'message',
        ts: m.ts,
        ...(m.bot ? { bot_id: ctx.bot.botId, user: ctx.bot.userId } : { user: m.user }),
        text: m.text,
      }));
    return { ok: true, messages, has_more: top.length > limit };
  },
};

/** Bot scopes Slack's method reference lists (any one of them suffices); absent: no scope needed. */
export const SCOPES_NEEDED: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.startStream': ['chat:write'],
  'chat.appendStream': ['chat:write'],
  'chat.stopStream': ['chat:write'],
  'assistant.threads.setStatus': ['chat:write', 'assistant:write'],
  'assistant.threads.setSuggestedPrompts': ['assistant:write'],
  'assistant.threads.setTitle': ['assistant:write'],
  'chat.delete': ['chat:write'],
  'conversations.info': ['channels:read', 'groups:read', 'im:read', 'mpim:read'],
  'users.info': ['users:read'],
  'conversations.replies': ['channels:history', 'groups:history', 'im:history', 'mpim:history'],
  'conversations.history': ['channels:history', 'groups:history', 'im:history', 'mpim:history'],
};

/** Methods that take the app-level token (xapp-…) instead of the bot token. */
export const APP_TOKEN_METHODS = new Set(['apps.connections.open']);
