/**
 * One answer's native streams in Slack (`chat.startStream` / `appendStream` / `stopStream`), called
 * directly rather than through the SDK's ChatStreamer, so this side knows exactly what each streamed
 * message carries. Slack closes a stream on its own after a while (about 5 minutes from its start, or
 * left without appends: `message_not_in_streaming_state`), leaving the message in a broken, unfinished
 * state: it is then replaced by `chat.update` with what it carried, and the answer goes on in a fresh
 * stream, so nothing is lost or repeated.
 */
import type { types, webApi } from '@slack/bolt';
import type { FeedbackTag, NativeStream, NativeTask } from '../../src/core/types.ts';
import type { Locale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import { pacedSlackBudget, slackBudget } from './budget.ts';
import { feedbackBlock, withFeedbackFallback } from './feedback.ts';
import { neutraliseStreamPiece, toMrkdwn } from './format.ts';

/** Tiers of the streaming methods and of chat.update (per workspace), as Slack counts them. */
export const STREAM_TIERS = {
  startStream: { max: 20, windowMs: 60_000 },
  appendStream: { max: 100, windowMs: 60_000, burst: 10 },
  update: { max: 50, windowMs: 60_000, burst: 5 },
};

/** Slack's answer to an append or stop on a stream it already closed. */
export const STREAM_CLOSED = 'message_not_in_streaming_state';

export interface StreamTarget {
  client: webApi.WebClient;
  /** Client for the streaming methods (rejects 429s at once); defaults to `client`. */
  streamClient?: webApi.WebClient;
  teamId: string;
  channel: string;
  threadTs: string;
  /** Who asked (streams outside DMs need a recipient). */
  userId: string;
  isDM: boolean;
  log: Logger;
  /** The language of the feedback buttons' labels. */
  locale?: Locale;
  keepTiers?: boolean;
  /** Called once per streamed message, when Slack created it. */
  onStarted?: (ts: string) => void;
  /** Called when the answer's last stream ends (`stop({ final: true })`). */
  onEnded?: () => Promise<void>;
}

type TaskChunk = NativeTask & { type: 'task_update' };

/** The Slack error code of a failed Web API call. */
export function slackError(err: unknown): string | undefined {
  return (err as { data?: { error?: string } }).data?.error;
}

export async function openStream(target: StreamTarget): Promise<NativeStream> {
  const { channel, threadTs, log } = target;
  const keepTiers = target.keepTiers !== false;
  const client = target.streamClient ?? target.client;
  const startBudget = () =>
    !keepTiers ||
    slackBudget(
      target.client,
      `${target.teamId}:startStream`,
      STREAM_TIERS.startStream.max,
      STREAM_TIERS.startStream.windowMs,
    ).tryTake();
  if (!startBudget())
    throw new Error('chat.startStream budget of the workspace is spent; answering with post-and-update');
  const appends = keepTiers
    ? pacedSlackBudget(target.client, `${target.teamId}:appendStream`, STREAM_TIERS.appendStream)
    : undefined;
  const updates = keepTiers
    ? pacedSlackBudget(target.client, `${target.teamId}:update`, STREAM_TIERS.update)
    : undefined;
  const recipient = target.isDM ? {} : { recipient_team_id: target.teamId, recipient_user_id: target.userId };

  let ts: string | undefined;
  /** What the current streamed message carries (as sent: neutralised Markdown). */
  let carried = '';
  /** Whether the place for the first start was already taken (in open). */
  let placeTaken = true;
  let ended = false;

  const start = async (piece: string, tasks?: TaskChunk[]) => {
    if (!placeTaken && !startBudget())
      throw new Error('chat.startStream budget of the workspace is spent; continuing with post-and-update');
    placeTaken = false;
    const res = await client.chat.startStream({
      channel,
      thread_ts: threadTs,
      ...recipient,
      ...(piece ? { markdown_text: piece } : {}),
      ...(tasks ? { chunks: tasks } : {}),
    });
    if (!res.ts) throw new Error('chat.startStream returned no ts');
    ts = res.ts;
    carried = piece;
    target.onStarted?.(res.ts);
  };

  /** A message whose stream Slack closed: replaced with what it carried, which ends its broken state. */
  const repair = async (closedTs: string, text: string, after?: types.KnownBlock) => {
    await updates?.take();
    await target.client.chat.update({
      channel,
      ts: closedTs,
      text: previewOf(text),
      blocks: [{ type: 'markdown', text }, ...(after ? [after] : [])],
    });
  };

  return {
    get id() {
      return ts;
    },
    async append(text: string): Promise<void> {
      if (!text) return;
      const piece = neutraliseStreamPiece(text);
      if (!ts) return start(piece);
      await appends?.take();
      try {
        await client.chat.appendStream({ channel, ts, markdown_text: piece });
        carried += piece;
      } catch (err) {
        if (slackError(err) !== STREAM_CLOSED) throw err;
        log.info(
          { ts, chars: carried.length },
          'Slack closed the stream mid-answer; continuing in a new one',
        );
        const closed = ts;
        ts = undefined;
        await repair(closed, carried);
        // A failure here leaves the piece to the core, which continues with post-and-update.
        await start(piece);
      }
    },
    /** Tool progress as `task_update` chunks (a stream opened for them starts with them). */
    async updateTasks(updates: NativeTask[]): Promise<void> {
      const chunks = updates.map((u) => ({
        ...u,
        type: 'task_update' as const,
        title: neutraliseStreamPiece(u.title),
      }));
      if (!ts) return start('', chunks);
      await appends?.take();
      await client.chat.appendStream({ channel, ts, chunks });
    },
    async stop(options?: { final?: boolean; feedback?: FeedbackTag | undefined }): Promise<void> {
      if (options?.final) await target.onEnded?.();
      if (!ts || ended) return;
      ended = true;
      const current = ts;
      /** Ends the stream, with a block under the text (the feedback buttons of a finished answer). */
      const end = async (after?: types.KnownBlock) => {
        try {
          // Ending the stream must not be skipped (the message would look unfinished for minutes):
          // a 429 waits for its Retry-After, here only, and tries again.
          const blocks = after ? { blocks: [after] } : {};
          await retryThrottled(log, () => client.chat.stopStream({ channel, ts: current, ...blocks }));
        } catch (err) {
          if (slackError(err) !== STREAM_CLOSED) throw err;
          log.debug({ ts: current }, 'stream already closed by Slack; replacing the message with its text');
          await repair(current, carried, after);
        }
      };
      const tag = options?.feedback;
      if (!tag) return end();
      // The buttons are worth a retry, not an answer left streaming: without them as a last resort.
      const locale = target.locale ?? 'en';
      await withFeedbackFallback(target.client, log, (style) => end(feedbackBlock(tag, locale, style))).catch(
        (err: unknown) => {
          log.warn({ err }, 'could not end the stream with the feedback buttons; ending it without');
          return end();
        },
      );
    },
  };
}

/** The notification text of a message shown through a markdown block: its first line. */
function previewOf(markdown: string): string {
  const first = markdown.trim().split('\n')[0] ?? '';
  return toMrkdwn(first.length > 150 ? `${first.slice(0, 150)}…` : first) || '…';
}

export async function retryThrottled<T>(log: Logger, call: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      const retryAfter = (err as { retryAfter?: number }).retryAfter;
      if (retryAfter === undefined || i >= attempts) throw err;
      log.debug({ retryAfter }, 'stream call throttled; waiting');
      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    }
  }
}
