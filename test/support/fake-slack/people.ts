/**
 * People writing in the fake workspace: each message lands in the channel model and comes back as the
 * Events API payloads Slack would send for it (a `message` event, plus `app_mention` when it mentions
 * the bot outside a DM), and slash commands as Slack's form fields.
 */
import { randomUUID } from 'node:crypto';
import type { FakeMessage } from './model.ts';
import type { FakeFile, FakeSlack } from './server.ts';

export interface Said {
  ts: string;
  /** `event_callback` bodies Slack delivers for this message, in Slack's order. */
  deliveries: Array<Record<string, unknown>>;
  /** The `message` event body alone. */
  message: Record<string, unknown>;
  /** The `app_mention` event body, when the text mentions the bot outside a DM. */
  mention?: Record<string, unknown>;
}

export interface SayOptions {
  user: string;
  channel: string;
  text: string;
  /** Reply in this thread. */
  threadTs?: string;
  files?: FakeFile[];
}

function channelType(channel: string): string {
  if (channel.startsWith('D')) return 'im';
  if (channel.startsWith('G')) return 'group';
  return 'channel';
}

export function say(fake: FakeSlack, o: SayOptions): Said {
  const m = fake.ws.add({
    channel: o.channel,
    threadTs: o.threadTs,
    user: o.user,
    text: o.text,
    format: 'mrkdwn',
    bot: false,
    streaming: false,
    ...(o.files?.length ? { files: o.files } : {}),
  });
  const base = {
    user: o.user,
    text: o.text,
    ts: m.ts,
    channel: o.channel,
    event_ts: m.ts,
    client_msg_id: randomUUID(),
    team: fake.team.id,
    ...(o.threadTs ? { thread_ts: o.threadTs, parent_user_id: 'U0PARENT' } : {}),
    ...(o.files?.length ? { files: o.files, subtype: 'file_share' } : {}),
  };
  const message = eventBody(fake, { type: 'message', channel_type: channelType(o.channel), ...base });
  const mentions = o.text.includes(`<@${fake.bot.userId}>`) && !o.channel.startsWith('D');
  const mention = mentions
    ? eventBody(fake, { type: 'app_mention', ...base, subtype: undefined })
    : undefined;
  return {
    ts: m.ts,
    message,
    ...(mention ? { mention } : {}),
    deliveries: mention ? [mention, message] : [message],
  };
}

/** A `message_changed` event for an edit of `ts` (the bot must ignore it). */
export function edited(fake: FakeSlack, channel: string, ts: string, text: string): Record<string, unknown> {
  return eventBody(fake, {
    type: 'message',
    subtype: 'message_changed',
    channel,
    channel_type: channelType(channel),
    hidden: true,
    ts: fake.ws.nextTs(),
    message: {
      type: 'message',
      user: 'U0ALICE',
      text,
      ts,
      edited: { user: 'U0ALICE', ts: fake.ws.nextTs() },
    },
  });
}

let eventSeq = 0;

export function eventBody(fake: FakeSlack, event: Record<string, unknown>): Record<string, unknown> {
  return {
    token: 'legacy-verification-token',
    team_id: fake.team.id,
    api_app_id: 'A0FAKE',
    event,
    type: 'event_callback',
    event_id: `Ev${String(++eventSeq).padStart(8, '0')}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      { team_id: fake.team.id, user_id: fake.bot.userId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  };
}

let commandSeq = 0;

/** The form fields Slack posts for `/qwen <text>`; answers to its response_url land in `fake.responses`. */
export function slash(
  fake: FakeSlack,
  o: { user: string; channel: string; text: string; channelName?: string },
): Record<string, string> {
  const id = `cmd${++commandSeq}`;
  return {
    token: 'legacy-verification-token',
    team_id: fake.team.id,
    team_domain: fake.team.name.toLowerCase(),
    channel_id: o.channel,
    channel_name: o.channelName ?? (o.channel.startsWith('D') ? 'directmessage' : 'general'),
    user_id: o.user,
    user_name: o.user.toLowerCase(),
    command: '/qwen',
    text: o.text,
    api_app_id: 'A0FAKE',
    is_enterprise_install: 'false',
    response_url: `${fake.url}/respond/${id}`,
    trigger_id: `trig.${id}`,
  };
}

let threadSeq = 0;

/**
 * A person opens the app's assistant pane (or agent view) while viewing `viewing`: Slack starts a thread
 * in their DM with the app and sends `assistant_thread_started` with the context.
 */
export function openAssistant(
  fake: FakeSlack,
  o: { user: string; dm: string; viewing?: string },
): { threadTs: string; body: Record<string, unknown> } {
  const root = fake.ws.add({
    channel: o.dm,
    user: fake.bot.userId,
    text: '',
    format: 'mrkdwn',
    bot: false,
    streaming: false,
  });
  return {
    threadTs: root.ts,
    body: eventBody(fake, {
      type: 'assistant_thread_started',
      assistant_thread: assistantThread(fake, o.user, o.dm, root.ts, o.viewing),
      event_ts: `${root.ts}${++threadSeq}`,
    }),
  };
}

/** A person opens the app's Messages tab (its DM): `app_home_opened` with `tab: "messages"`. */
export function openMessagesTab(fake: FakeSlack, o: { user: string; dm: string }): Record<string, unknown> {
  return eventBody(fake, {
    type: 'app_home_opened',
    user: o.user,
    channel: o.dm,
    tab: 'messages',
    event_ts: fake.ws.nextTs(),
  });
}

/** The person moves to another channel with the assistant pane open. */
export function assistantContextChanged(
  fake: FakeSlack,
  o: { user: string; dm: string; threadTs: string; viewing: string },
): Record<string, unknown> {
  return eventBody(fake, {
    type: 'assistant_thread_context_changed',
    assistant_thread: assistantThread(fake, o.user, o.dm, o.threadTs, o.viewing),
    event_ts: fake.ws.nextTs(),
  });
}

function assistantThread(fake: FakeSlack, user: string, dm: string, threadTs: string, viewing?: string) {
  return {
    user_id: user,
    channel_id: dm,
    thread_ts: threadTs,
    context: viewing ? { channel_id: viewing, team_id: fake.team.id, enterprise_id: null } : {},
  };
}

/**
 * The `block_actions` payload Slack posts when `user` presses the button labelled `label` on a message;
 * throws when the message shows no such button (a person cannot press what is not there).
 */
export function pressButton(
  fake: FakeSlack,
  o: { user: string; channel: string; ts: string; label: string },
): Record<string, unknown> {
  const m = fake.message(o.channel, o.ts);
  const button = m?.buttons?.find((b) => b.label === o.label);
  if (!m || !button) throw new Error(`message ${o.ts} in ${o.channel} shows no "${o.label}" button`);
  return {
    type: 'block_actions',
    user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: fake.team.id },
    api_app_id: 'A0FAKE',
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: m.ts,
      channel_id: m.channel,
      is_ephemeral: false,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    },
    trigger_id: `trig.${fake.ws.nextTs()}`,
    team: { id: fake.team.id, domain: fake.team.name.toLowerCase() },
    channel: { id: m.channel, name: fake.ws.channelNames.get(m.channel) ?? 'directmessage' },
    message: payloadMessage(m),
    response_url: `${fake.url}/respond/action-${m.ts}`,
    actions: [
      {
        action_id: button.actionId,
        block_id: button.blockId,
        text: { type: 'plain_text', text: button.label, emoji: true },
        value: button.value,
        type: 'button',
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
}

/**
 * The `message_action` payload Slack posts when `user` picks the message shortcut `callbackId` from the
 * ⋯ menu of the message at `ts` (with the message as Slack shows it, and a response_url).
 */
export function messageShortcut(
  fake: FakeSlack,
  o: { user: string; channel: string; ts: string; callbackId: string },
): Record<string, unknown> {
  const m = fake.message(o.channel, o.ts);
  if (!m) throw new Error(`no message ${o.ts} in ${o.channel}`);
  const replies = fake.thread(o.channel, m.ts).length;
  return {
    type: 'message_action',
    token: 'legacy-verification-token',
    action_ts: String(Date.now() / 1000),
    team: { id: fake.team.id, domain: fake.team.name.toLowerCase() },
    user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: fake.team.id },
    channel: { id: o.channel, name: fake.ws.channelNames.get(o.channel) ?? 'directmessage' },
    is_enterprise_install: false,
    callback_id: o.callbackId,
    trigger_id: `trig.${fake.ws.nextTs()}`,
    response_url: `${fake.url}/respond/shortcut-${m.ts}`,
    message_ts: m.ts,
    message: {
      ...payloadMessage(m),
      ...(!m.threadTs && replies > 0 ? { thread_ts: m.ts, reply_count: replies } : {}),
    },
  };
}

/** A message as Slack's interaction payloads carry it. */
function payloadMessage(m: FakeMessage): Record<string, unknown> {
  return {
    type: 'message',
    user: m.user,
    ts: m.ts,
    text: m.text,
    ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
  };
}
