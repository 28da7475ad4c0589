/**
 * The contract between adapters and the core. Adapters turn platform events into these normalised
 * shapes and implement `ReplySurface`; nothing here knows which platform it serves.
 */
import type { Audience, Locale } from '../i18n.ts';

/** Where a message lives. A DM is its own conversation; a thread is its own conversation. */
export interface ConversationRef {
  /** 'discord' | 'slack' | 'console' | … */
  platform: string;
  /** Guild id, Slack team id, or 'local'. DMs use 'dm' on Discord. */
  workspace: string;
  channel: string;
  /** Thread id (Discord thread channel id or Slack thread_ts). */
  thread?: string;
  isDM: boolean;
  /**
   * The thread is the one this message starts (a top-level Slack message, answered in a thread under
   * it): channel-wide choices made here (`/channel mode`) apply to the channel, not to that thread.
   */
  opensThread?: boolean;
}

/** `platform:workspace:channel[:thread]` — the key of history, settings and the per-conversation queue. */
export function conversationKey(ref: ConversationRef): string {
  const base = `${ref.platform}:${ref.workspace}:${ref.channel}`;
  return ref.thread ? `${base}:${ref.thread}` : base;
}

export interface Author {
  /** Platform user id. */
  id: string;
  /** Name shown to the model so it knows who said what. */
  name: string;
  isBot: boolean;
  /** Platform says this user administers the server/workspace (Discord Manage Server, Slack admin). */
  isAdmin?: boolean;
  /** The person running the bot (the terminal user): not held to the per-user rate limit. */
  operator?: boolean;
  /** The user's locale tag as the platform reports it (e.g. "zh-CN"). */
  locale?: string;
}

export interface Attachment {
  name: string;
  /** MIME type as the platform reports it (may be empty). */
  mime: string;
  /** Size in bytes as reported (0 when unknown). */
  size: number;
  /** Loads the bytes; adapters enforce their own size limit and reject beyond it. */
  load(): Promise<Uint8Array>;
  /**
   * A recording to transcribe (Discord voice message or audio file, Slack audio clip), with its length
   * when the platform reports one (src/core/voice.ts).
   */
  voice?: {
    seconds?: number /** Set when it is a quoted message's recording: who spoke. */;
    author?: string;
  };
}

/** A message the asker replied to (someone else's), brought into the turn as a quote. */
export interface QuotedMessage {
  /** Display name of whoever wrote it. */
  author: string;
  /** Its text, cleaned like the message's own (mentions as names). */
  text: string;
  attachments: Attachment[];
}

export interface IncomingMessage {
  /** Platform message id (Slack: client_msg_id or ts; Discord: snowflake). Used for dedupe. */
  id: string;
  /** Platform event id if different from the message id (Slack event_id); also deduped. */
  eventId?: string;
  conversation: ConversationRef;
  author: Author;
  /** Text with the bot's own mention removed and other mentions turned into names. */
  text: string;
  attachments: Attachment[];
  /** The bot was mentioned, DMed, or replied to: only addressed messages are answered. */
  addressed: boolean;
  /**
   * Not addressed to the bot, yet answered because its channel is in mode all (`/channel mode all`):
   * addressed is then true too, and an empty message is passed over in silence rather than refused.
   */
  byChannelMode?: boolean;
  /** The message the asker replied to, when it is someone else's: it goes into the turn as a quote. */
  quoted?: QuotedMessage;
  /**
   * Could not be read (Discord without the Message Content intent): the answer says so in a note,
   * instead of answering as if nothing had been quoted.
   */
  quoteUnreadable?: boolean;
  /** Set by the core only (src/core/question.ts): short lines shown after the answer. */
  notes?: string[];
  /** The bot's own user id on this platform, so the guards can ignore its own messages. */
  botUserId?: string;
  receivedAt: number;
  /**
   * Lines for the model about where the person is (e.g. the Slack channel they are viewing), added to the
   * system prompt of this answer only: never stored, never shown.
   */
  context?: string[];
}

export type OptionType = 'string' | 'integer' | 'number' | 'boolean';
export type OptionValue = string | number | boolean;

export interface CommandInvocation {
  /** The platform's id of this invocation (Discord interaction id, Slack trigger_id): deduped like messages. */
  id?: string;
  /** Command name without the slash. */
  name: string;
  /** Options already typed by the platform (Discord), keyed by option name. */
  options?: Record<string, OptionValue | undefined>;
  /** Raw text after the command name (console, Slack): parsed by the registry. */
  rawArgs?: string;
  conversation: ConversationRef;
  author: Author;
  locale?: string;
}

export interface CommandResult {
  text: string;
  /** Show only to the invoker where the platform can. */
  ephemeral?: boolean;
  /**
   * The text is the caller's own data (`/usage`, `/forget`, `/system` shown): when ephemeral, it is never
   * posted in a channel, even when the command was typed in a mention there.
   */
  private?: boolean;
}

export interface SurfaceLimits {
  /** Characters per message (Discord 2,000; Slack 4,000 for updates). */
  maxChars: number;
  /** Never edit one message more often than this. */
  minEditIntervalMs: number;
  /**
   * Name of the rate budget shared by every answer on this surface (e.g. `discord:channel:123`,
   * `slack:T123`), so fifty simultaneous answers do not multiply the request rate.
   */
  paceBucket: string;
  /**
   * Requests (posts and edits) the whole bucket may make per window, e.g. Discord ~5 per 5 s per
   * channel, Slack chat.update ~50 per 60 s per workspace. Omitted: only per-message pacing applies.
   */
  bucket?: { points: number; durationSec: number };
  /**
   * Budget for new messages when the platform limits them apart from edits (Slack: about one
   * chat.postMessage per second per channel). Omitted: posts share `bucket`.
   */
  post?: { key: string; points: number; durationSec: number };
}

export interface PostedMessage {
  id: string;
}

/**
 * 👍 / 👎 under a finished answer (its last message): what a press reports back besides the message
 * it was on. Only given to complete answers, never to errors or stopped ones.
 */
export interface FeedbackTag {
  model: string;
}

export interface PostOptions {
  /** The message will be edited as the answer streams (Discord shows a Stop button). */
  streaming?: boolean;
  /** The answer's last message, finished: show the feedback buttons. */
  feedback?: FeedbackTag | undefined;
}

export interface EditOptions {
  /** The last edit of this message: remove Stop buttons and the like. */
  final?: boolean;
  /** The answer's last message, finished: show the feedback buttons. */
  feedback?: FeedbackTag | undefined;
}

/** A platform's native streaming (Slack chat.startStream/appendStream/stopStream; a terminal). */
export interface NativeStream {
  /** The streamed message's id once the platform created it (crash repair finds it by this). */
  readonly id?: string;
  append(text: string): Promise<void>;
  /** Shows steps of work apart from the text (Slack `task_update` chunks): a tool running, then done. */
  updateTasks?(updates: NativeTask[]): Promise<void>;
  /**
   * Ends the stream; the message then shows everything appended. `final`: the answer's last stream;
   * `feedback`: it ends a finished answer, so it shows the feedback buttons.
   */
  stop(options?: { final?: boolean; feedback?: FeedbackTag | undefined }): Promise<void>;
}

export interface NativeTask {
  id: string;
  title: string;
  status: 'in_progress' | 'complete' | 'error';
}

export interface NativeStreaming {
  open(): Promise<NativeStream>;
  /** Its streams take `task` updates: tool progress shows as tasks instead of a status line. */
  tasks?: boolean;
  /** Characters one streamed message may hold before a new one must start. */
  maxChars: number;
  /** Minimum time between appends (ms). */
  minAppendIntervalMs: number;
  /**
   * Takes the answer's ending lines (error, "stopped", notes) apart instead of appended to the stream:
   * a terminal prints the error once, on stderr.
   */
  ending?(lines: string): Promise<void>;
}

/**
 * What an adapter gives the core for one reply: where to post, how to edit, and its limits as data.
 * Optional members are capabilities the core checks for, rather than adapters faking them.
 */
export interface ReplySurface {
  readonly limits: SurfaceLimits;
  /** Posts a new message in the reply location (reply to the message, or in its thread). */
  post(text: string, options?: PostOptions): Promise<PostedMessage>;
  edit(message: PostedMessage, text: string, options?: EditOptions): Promise<void>;
  /** Shows "typing…"/"thinking…" until the first message is posted; called again every few seconds. */
  showTyping?(): Promise<void>;
  /** Native streaming, tried first; the core falls back to post-and-edit when it fails. */
  native?: NativeStreaming;
  /** The user's locale for bot strings, when the platform knows it. */
  locale?: Locale;
  /** Who reads the failure lines: chat users (default), or the operator (the terminal), told what to check. */
  audience?: Audience;
  /**
   * Shows a line only to the person who wrote the message (Slack `chat.postEphemeral`). Used for private
   * command results typed in a channel; without it (or when it throws) the core posts a public pointer
   * to the slash command instead of the private text.
   */
  postPrivate?(text: string): Promise<void>;
  /** Wraps text so it shows only when a reader asks (Discord `||…||`); without it reasoning is not shown. */
  spoiler?(text: string): string;
}
