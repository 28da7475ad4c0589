/**
 * One reply in Slack as the core's `ReplySurface`: post = `chat.postMessage` in the thread, edit =
 * `chat.update`, native = `client.chatStream()` (chat.startStream/appendStream/stopStream), typing =
 * `assistant.threads.setStatus`. Every text is converted and neutralised on its way out.
 */
import type { types, webApi } from '@slack/bolt';
import type { MessageEditor } from '../../src/core/inflight.ts';
import type { BucketSpec } from '../../src/core/pacer.ts';
import type {
  EditOptions,
  FeedbackTag,
  PostedMessage,
  PostOptions,
  ReplySurface,
  SurfaceLimits,
} from '../../src/core/types.ts';
import type { Locale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import { pacedSlackBudget, slackBudget } from './budget.ts';
import { feedbackBlock, withFeedbackFallback } from './feedback.ts';
import { neutraliseMarkdown, neutraliseStreamPiece, toMrkdwn } from './format.ts';
import { openStream, STREAM_CLOSED, STREAM_TIERS, slackError } from './native-stream.ts';
import { type StopButton, StopControl, stopActions } from './stop.ts';

/** `chat.update` refuses text over 4,000 characters; conversion to mrkdwn can grow text a little. */
export const SLACK_UPDATE_MAX = 4000;
export const SLACK_SURFACE_MAX = 3500;
/** One streamed message fails near 12,000 characters (reported). */
export const SLACK_STREAM_MAX = 11_000;
/** chat.update is Tier 3: about 50 per minute per workspace, shared by every answer there. */
export const SLACK_UPDATE_BUCKET = { points: 50, durationSec: 60 };
/**
 * Tiers of the streaming methods (per workspace) and of chat.postMessage (per channel), as Slack counts
 * them: a sliding window. A stream is only started when the window has room (else the answer goes
 * post-and-update at once, as after a 429); appends, posts and updates wait for room.
 */
export const SLACK_TIERS = { ...STREAM_TIERS, postMessage: { max: 10, windowMs: 10_000 } };

/**
 * How fast one reply may write. Production always uses `SLACK_PACING`: it protects the real platform,
 * so user config can only slow edits down (`streaming.minEditIntervalMs`). Tests pass other values
 * through `startSlack({ pacing })` when pacing is not what they check.
 */
export interface SlackPacing {
  /** Floor for `chat.update` of one message. */
  minEditIntervalMs: number;
  /** Spacing of `chat.appendStream` calls of one native stream. */
  minAppendIntervalMs: number;
  /** `chat.update` budget of the workspace. */
  updateBucket: BucketSpec;
  /** `chat.postMessage` budget of one channel (apart from updates). */
  postBucket: BucketSpec;
}

export const SLACK_PACING: SlackPacing = {
  minEditIntervalMs: 1200,
  minAppendIntervalMs: 1000,
  updateBucket: SLACK_UPDATE_BUCKET,
  // chat.postMessage has its own limit: about one per second per channel.
  postBucket: { points: 1, durationSec: 1 },
};

type MarkdownBlock = types.MarkdownBlock;

const STATUS: Record<Locale, string> = { en: 'is thinking…', zh: '正在思考…' };

export interface SlackTarget {
  client: webApi.WebClient;
  /**
   * Client for the streaming methods, built with `rejectRateLimitedCalls`: the shared client answers a
   * 429 by pausing every request it has queued, which would stall all answers in the workspace; a
   * throttled stream should instead fall back to post-and-update at once. Defaults to `client`.
   */
  streamClient?: webApi.WebClient;
  teamId: string;
  channel: string;
  /** Thread to answer in; undefined answers at the top level (a DM outside a thread). */
  threadTs?: string;
  /** Who asked (streams outside DMs need a recipient). */
  userId: string;
  /**
   * The thread the message was written in, if any. Slack shows an ephemeral message in a thread only
   * when the thread already exists, so a private reply to a top-level mention goes to the channel.
   */
  writtenInThread?: string;
  isDM: boolean;
  locale?: Locale;
  /** The Stop button of this answer (which message it stops, its label); none without it. */
  stop?: StopButton;
  /** Lines Slack rotates under the status while the answer is prepared (assistant threads). */
  loadingMessages?: string[];
  log: Logger;
  /** Defaults to `SLACK_PACING`. */
  pacing?: Partial<SlackPacing> | undefined;
  /** Spend the tiers on this side (`slack.keepTiers`, default true); false leaves it to Slack's 429s. */
  keepTiers?: boolean;
}

export function slackSurface(target: SlackTarget): ReplySurface {
  const { client, channel, threadTs, log } = target;
  const pacing = { ...SLACK_PACING, ...target.pacing };
  const keepTiers = target.keepTiers !== false;
  const limits: SurfaceLimits = {
    maxChars: SLACK_SURFACE_MAX,
    minEditIntervalMs: pacing.minEditIntervalMs,
    paceBucket: `slack:${target.teamId}`,
    bucket: pacing.updateBucket,
    post: { key: `slack:${target.teamId}:${channel}:post`, ...pacing.postBucket },
  };
  let statusWorks = true;
  /** Messages of this reply currently shown through blocks (a markdown block, or text with Stop). */
  const withBlock = new Set<string>();
  /** Messages of this reply that show the Stop button. */
  const withStop = new Set<string>();
  const button = target.stop;
  const postTier = SLACK_TIERS.postMessage;
  const tryPost = () =>
    !keepTiers ||
    slackBudget(client, `${target.teamId}:${channel}:postMessage`, postTier.max, postTier.windowMs).tryTake();
  const control =
    button && threadTs ? new StopControl({ client, channel, threadTs, button, log, tryPost }) : undefined;
  const locale = target.locale ?? 'en';
  /** One part as sent: with the Stop button while it streams, with 👍 / 👎 when it ends a finished answer. */
  const send = async <T>(
    text: string,
    parts: { stop?: StopButton | undefined; feedback?: FeedbackTag | undefined },
    call: (body: OutgoingText) => Promise<T>,
  ): Promise<{ body: OutgoingText; res: T }> => {
    const { stop, feedback } = parts;
    if (feedback)
      return withFeedbackFallback(client, log, async (style) => {
        const body = withBlockAfter(outgoing(text, log), feedbackBlock(feedback, locale, style));
        return { body, res: await call(body) };
      });
    const body = stop ? withBlockAfter(outgoing(text, log), stopActions(stop)) : outgoing(text, log);
    return { body, res: await call(body) };
  };
  const surface: ReplySurface = {
    limits,
    locale: target.locale,
    /** Slack has no spoiler: the end of the reasoning follows the answer as a quote under 💭. */
    spoiler: (text) =>
      text
        .split('\n')
        .map((line, i) => `> ${i === 0 ? '💭 ' : ''}${line}`)
        .join('\n'),
    async post(text: string, options?: PostOptions): Promise<PostedMessage> {
      const stop = button && options?.streaming ? button : undefined;
      if (!options?.streaming) await control?.hide();
      const tier = SLACK_TIERS.postMessage;
      if (keepTiers)
        await slackBudget(client, `${target.teamId}:${channel}:postMessage`, tier.max, tier.windowMs).take();
      const { body, res } = await send(text, { stop, feedback: options?.feedback }, (b) =>
        client.chat.postMessage({
          channel,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          ...b,
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      if (!res.ts) throw new Error('chat.postMessage returned no ts');
      if (body.blocks) withBlock.add(res.ts);
      if (stop) withStop.add(res.ts);
      return { id: res.ts };
    },
    async edit(message: PostedMessage, text: string, options?: EditOptions): Promise<void> {
      if (options?.final) await control?.hide();
      const stop = button && withStop.has(message.id) && !options?.final ? button : undefined;
      // The core's pacer spends this budget in fixed windows, which can let twice the tier through
      // around a window's edge; Slack counts a sliding window.
      if (keepTiers) await pacedSlackBudget(client, `${target.teamId}:update`, SLACK_TIERS.update).take();
      // An update without blocks keeps the old ones: clear a markdown block this message had.
      const { body } = await send(text, { stop, feedback: options?.feedback }, (b) => {
        const clear = withBlock.has(message.id) && !b.blocks ? { blocks: [] } : {};
        return client.chat.update({ channel, ts: message.id, ...b, ...clear });
      });
      if (body.blocks) withBlock.add(message.id);
      else withBlock.delete(message.id);
      if (!stop) withStop.delete(message.id);
    },
    /** Only the caller sees it (and only in this session): Slack keeps no copy in the channel. */
    async postPrivate(text: string): Promise<void> {
      await client.chat.postEphemeral({
        channel,
        user: target.userId,
        ...(target.writtenInThread ? { thread_ts: target.writtenInThread } : {}),
        ...outgoing(text, log),
      });
    },
  };
  if (threadTs) {
    surface.showTyping = async () => {
      if (!statusWorks) return;
      try {
        await client.assistant.threads.setStatus({
          channel_id: channel,
          thread_ts: threadTs,
          status: STATUS[target.locale ?? 'en'],
          ...(target.loadingMessages?.length
            ? { loading_messages: target.loadingMessages.slice(0, 10) }
            : {}),
        });
      } catch (err) {
        // Not an assistant thread, or the scope is missing: the answer itself is what matters.
        statusWorks = false;
        log.debug({ err }, 'assistant status not shown');
      }
    };
    surface.native = {
      maxChars: SLACK_STREAM_MAX,
      minAppendIntervalMs: pacing.minAppendIntervalMs,
      tasks: true,
      open: async () =>
        openStream({
          ...target,
          locale,
          threadTs,
          onStarted: () => control?.show(),
          onEnded: async () => control?.hide(),
        }),
    };
  }
  return surface;
}

/** A section (mrkdwn) holds 3,000 characters; longer text goes in a markdown block. */
const SECTION_MAX = 3000;

/** The part as blocks, with a block under it: Stop, or 👍 / 👎 (blocks replace `text` on screen). */
function withBlockAfter(body: OutgoingText, after: types.KnownBlock): OutgoingText {
  const content: types.KnownBlock | MarkdownBlock =
    body.blocks?.[0] ??
    (body.text.length <= SECTION_MAX
      ? { type: 'section', text: { type: 'mrkdwn', text: body.text } }
      : { type: 'markdown', text: neutraliseMarkdown(body.text) });
  return { text: body.text, blocks: [content, after] };
}

/** What `chat.postMessage` / `chat.update` get for one part of an answer. */
export interface OutgoingText {
  text: string;
  blocks?: Array<MarkdownBlock | types.KnownBlock>;
}

/**
 * mrkdwn `text` for a part of the answer. Escaping can grow it past chat.update's 4,000 characters
 * (code full of `<` and `&`): then the Markdown goes in a `markdown` block instead (12,000 characters,
 * no escaping needed, mentions made inert), with a short `text` for notifications.
 */
export function outgoing(markdown: string, log?: Logger): OutgoingText {
  const text = toMrkdwn(markdown) || '…';
  if (text.length <= SLACK_UPDATE_MAX) return { text };
  log?.debug({ chars: text.length }, 'mrkdwn too long after escaping; sending a markdown block');
  const firstLine = markdown.trim().split('\n')[0] ?? '';
  const preview = toMrkdwn(firstLine.length > 150 ? `${firstLine.slice(0, 150)}…` : firstLine) || '…';
  return { text: preview, blocks: [{ type: 'markdown', text: neutraliseMarkdown(markdown) }] };
}

/**
 * Edits an answer after a restart (the core's crash repair). A message Slack still counts as streaming
 * refuses updates (`streaming_state_conflict`): the stream is stopped first, then the text replaced.
 * A native stream the last run left open is ended with the line appended (`chat.stopStream`), or, when
 * Slack already closed it (`message_not_in_streaming_state`), updated to what it showed plus the line.
 */
export function slackEditor(client: webApi.WebClient, log: Logger): MessageEditor {
  const editMessage: MessageEditor['editMessage'] = async (conversation, messageId, text) => {
    // The old message may have had a markdown block: replace the blocks too.
    const body = outgoing(text, log);
    const update = () =>
      client.chat.update({
        channel: conversation.channel,
        ts: messageId,
        ...body,
        blocks: body.blocks ?? [],
      });
    try {
      await update();
    } catch (err) {
      if (slackError(err) !== 'streaming_state_conflict') throw err;
      await client.chat.stopStream({ channel: conversation.channel, ts: messageId });
      await update();
    }
  };
  const postMessage: NonNullable<MessageEditor['postMessage']> = async (conversation, text) => {
    await client.chat.postMessage({
      channel: conversation.channel,
      ...(conversation.thread ? { thread_ts: conversation.thread } : {}),
      ...outgoing(text, log),
    });
  };
  return {
    platform: 'slack',
    maxChars: SLACK_SURFACE_MAX,
    editMessage,
    postMessage,
    async endStream(conversation, messageId, line, shown) {
      try {
        await client.chat.stopStream({
          channel: conversation.channel,
          ts: messageId,
          markdown_text: neutraliseStreamPiece(shown ? `\n\n${line}` : line),
        });
      } catch (err) {
        if (slackError(err) === 'msg_too_long') {
          // A full stream: end it as it is, and the line follows in a message of its own.
          await client.chat.stopStream({ channel: conversation.channel, ts: messageId });
          await postMessage(conversation, line);
          return;
        }
        if (slackError(err) !== STREAM_CLOSED) throw err;
        log.debug({ ts: messageId }, 'stream already closed by Slack; updating the message instead');
        await editMessage(conversation, messageId, shown ? `${shown}\n\n${line}` : line);
      }
    },
  };
}
