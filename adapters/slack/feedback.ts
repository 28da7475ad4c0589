/**
 * 👍 / 👎 on Slack: Slack's feedback buttons (a `feedback_buttons` element in a `context_actions`
 * block) at the end of the answer's last message — the final `chat.update`, or `chat.stopStream` of a
 * native stream. A workspace that refuses that block (`invalid_blocks`) gets two Block Kit buttons
 * instead. A press is acknowledged with an ephemeral message in the answer's thread; a 👎 opens a
 * one-line modal (`views.open` with the press's trigger_id) when the bot asks for reasons.
 */
import type { App, BlockAction, types, webApi } from '@slack/bolt';
import { REASON_MAX_CHARS, type Vote } from '../../src/core/feedback.ts';
import type { ChatService } from '../../src/core/service.ts';
import type { ConversationRef, FeedbackTag } from '../../src/core/types.ts';
import { type Locale, t, toLocale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import { isDirectChannel } from './events.ts';
import type { UserDirectory } from './users.ts';

export const FEEDBACK_ACTION = 'qwenbot_feedback';
export const REASON_VIEW = 'qwenbot_feedback_reason';
const REASON_BLOCK = 'reason';
const REASON_INPUT = 'reason';

export type FeedbackStyle = 'feedback_buttons' | 'buttons';

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });

/** The block that ends a finished answer: Slack's feedback buttons, or Block Kit buttons as a fallback. */
export function feedbackBlock(tag: FeedbackTag, locale: Locale, style: FeedbackStyle): types.KnownBlock {
  const value = (vote: Vote) => `${vote}:${tag.model}`;
  if (style === 'buttons') {
    const button = (vote: Vote, emoji: string, label: string) => ({
      type: 'button' as const,
      action_id: `${FEEDBACK_ACTION}_${vote}`,
      text: plain(emoji),
      accessibility_label: label,
      value: value(vote),
    });
    return {
      type: 'actions',
      elements: [
        button('up', '👍', t(locale, 'feedback.up_label')),
        button('down', '👎', t(locale, 'feedback.down_label')),
      ],
    };
  }
  return {
    type: 'context_actions',
    elements: [
      {
        type: 'feedback_buttons',
        action_id: FEEDBACK_ACTION,
        positive_button: {
          text: plain('👍'),
          accessibility_label: t(locale, 'feedback.up_label'),
          value: value('up'),
        },
        negative_button: {
          text: plain('👎'),
          accessibility_label: t(locale, 'feedback.down_label'),
          value: value('down'),
        },
      },
    ],
  };
}

/** Clients whose workspace refused the feedback buttons block: they get Block Kit buttons from then on. */
const refusedFeedbackButtons = new WeakSet<object>();

/** Runs a call that shows the feedback block; when Slack refuses the block, again with plain buttons. */
export async function withFeedbackFallback<T>(
  client: webApi.WebClient,
  log: Logger,
  call: (style: FeedbackStyle) => Promise<T>,
): Promise<T> {
  if (refusedFeedbackButtons.has(client)) return call('buttons');
  try {
    return await call('feedback_buttons');
  } catch (err) {
    if ((err as { data?: { error?: string } }).data?.error !== 'invalid_blocks') throw err;
    log.warn('Slack refused the feedback buttons block; showing Block Kit buttons instead');
    refusedFeedbackButtons.add(client);
    return call('buttons');
  }
}

interface ReasonMeta {
  /** Channel, thread, answer message ts, model, team. */
  c: string;
  t?: string;
  a: string;
  m: string;
  w: string;
}

function reasonView(meta: ReasonMeta, locale: Locale): types.ModalView {
  return {
    type: 'modal',
    callback_id: REASON_VIEW,
    private_metadata: JSON.stringify(meta),
    title: plain(t(locale, 'feedback.reason_title')),
    submit: plain(t(locale, 'feedback.reason_submit')),
    blocks: [
      {
        type: 'input',
        block_id: REASON_BLOCK,
        optional: true,
        label: plain(t(locale, 'feedback.reason_label')),
        element: {
          type: 'plain_text_input',
          action_id: REASON_INPUT,
          max_length: REASON_MAX_CHARS,
          placeholder: plain(t(locale, 'feedback.reason_placeholder')),
        },
      },
    ],
  };
}

export interface SlackFeedbackDeps {
  app: App;
  service: ChatService;
  users: UserDirectory;
  log: Logger;
  teamId: string;
  fallbackLocale: Locale;
  /** Keeps the work after the ack in the adapter's in-flight set (stop waits for it). */
  track: (work: Promise<unknown>) => void;
}

/** Listens for presses on the feedback buttons (either style) and for the reason modal. */
export function listenForFeedback(deps: SlackFeedbackDeps): void {
  const { app } = deps;
  app.action({ action_id: new RegExp(`^${FEEDBACK_ACTION}`) }, async ({ ack, body, action, client }) => {
    await ack();
    const value = (action as { value?: string }).value ?? '';
    deps.track(pressed(deps, body as BlockAction, value, client));
  });
  app.view(REASON_VIEW, async ({ ack, body, view, client }) => {
    await ack();
    const value = view.state.values[REASON_BLOCK]?.[REASON_INPUT]?.value ?? '';
    deps.track(reasonSent(deps, body.user.id, view.private_metadata, value, client));
  });
}

async function pressed(
  deps: SlackFeedbackDeps,
  body: BlockAction,
  value: string,
  client: webApi.WebClient,
): Promise<void> {
  const channel = body.channel?.id;
  const message = body.message as { ts?: string; thread_ts?: string } | undefined;
  if (!channel || !message?.ts) return deps.log.warn('feedback press without its message; ignored');
  const vote: Vote = value.startsWith('down:') ? 'down' : 'up';
  const model = value.slice(vote.length + 1);
  const voter = await deps.users.get(body.user.id);
  const locale = toLocale(voter.locale, deps.fallbackLocale);
  const feedback = deps.service.feedback;
  const thread = message.thread_ts;
  const tell = (text: string) =>
    client.chat.postEphemeral({ channel, user: voter.id, ...(thread ? { thread_ts: thread } : {}), text });
  if (!feedback?.enabled) return void (await tell(t(locale, 'feedback.off')));
  const team = body.team?.id ?? deps.teamId;
  const input = {
    conversation: conversationOf(team, channel, thread),
    answerId: message.ts,
    model,
    voter,
    vote,
  };
  if (vote === 'down' && feedback.askReason && body.trigger_id) {
    // The trigger is good for 3 seconds: the modal first, the 👎 right after (the form stores it again).
    const meta: ReasonMeta = {
      c: channel,
      ...(thread ? { t: thread } : {}),
      a: message.ts,
      m: model,
      w: team,
    };
    const opened = await client.views
      .open({ trigger_id: body.trigger_id, view: reasonView(meta, locale) })
      .then(() => true)
      .catch((err: unknown) => {
        deps.log.warn({ err }, 'could not open the feedback form; the 👎 is acknowledged without it');
        return false;
      });
    if (opened) {
      const outcome = await feedback.vote(input, locale);
      if (!outcome.stored) deps.log.warn({ answer: message.ts }, 'feedback not stored; the form retries');
      return;
    }
  }
  await tell((await feedback.vote(input, locale)).line);
}

async function reasonSent(
  deps: SlackFeedbackDeps,
  userId: string,
  metadata: string,
  reason: string,
  client: webApi.WebClient,
): Promise<void> {
  let meta: ReasonMeta;
  try {
    meta = JSON.parse(metadata) as ReasonMeta;
  } catch {
    return deps.log.warn('feedback reason form without its answer; ignored');
  }
  const voter = await deps.users.get(userId);
  const locale = toLocale(voter.locale, deps.fallbackLocale);
  const feedback = deps.service.feedback;
  const text = feedback?.enabled
    ? await feedback.reason(
        {
          conversation: conversationOf(meta.w, meta.c, meta.t),
          answerId: meta.a,
          model: meta.m,
          voter,
          reason,
        },
        locale,
      )
    : t(locale, 'feedback.off');
  await client.chat.postEphemeral({
    channel: meta.c,
    user: voter.id,
    ...(meta.t ? { thread_ts: meta.t } : {}),
    text,
  });
}

/** The conversation an answer's message belongs to: its thread, or a DM's top level (events.ts). */
function conversationOf(team: string, channel: string, thread: string | undefined): ConversationRef {
  return {
    platform: 'slack',
    workspace: team,
    channel,
    ...(thread ? { thread } : {}),
    isDM: isDirectChannel(channel),
  };
}
