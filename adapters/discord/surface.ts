/**
 * Outbound: one ReplySurface per answer. The first post replies to the user's message, later posts
 * continue in the same channel; edits are plain message edits. Every request carries empty allowed
 * mentions so nothing the model writes can ping anyone. A streaming message carries a Stop button,
 * which the final edit removes (or, on a finished answer's last message, replaces with 👍 / 👎).
 */
import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  ButtonStyle,
  ComponentType,
  type Message,
  type MessageMentionOptions,
  type REST,
  Routes,
  type SendableChannels,
} from 'discord.js';
import type { MessageEditor } from '../../src/core/inflight.ts';
import type { BucketSpec } from '../../src/core/pacer.ts';
import type {
  EditOptions,
  PostedMessage,
  PostOptions,
  ReplySurface,
  SurfaceLimits,
} from '../../src/core/types.ts';
import { type Locale, toLocale } from '../../src/i18n.ts';
import { feedbackRow } from './feedback.ts';

/** Nobody is pinged: no parsed mentions and no reply ping. */
export const NO_PINGS: MessageMentionOptions = { parse: [], repliedUser: false };
export const STOP_PREFIX = 'qwenbot:stop';
/** Discord: 2,000 characters per message; about one edit per second per message; 5 sends per 5 s per channel. */
export const DISCORD_MAX_CHARS = 2000;

/**
 * How fast one channel may be written to. Production always uses `DISCORD_PACING`: it protects the
 * real platform, so user config can only slow it down (`streaming.minEditIntervalMs`), never speed it
 * up. Tests pass other values through `startDiscord({ pacing })` when pacing is not what they check.
 */
export interface DiscordPacing {
  /** Floor under `streaming.minEditIntervalMs` for edits of one message. */
  minEditIntervalMs: number;
  /** Posts and edits the whole channel may make per window. */
  channelBucket: BucketSpec;
}

export const DISCORD_PACING: DiscordPacing = {
  minEditIntervalMs: 1000,
  channelBucket: { points: 5, durationSec: 5 },
};

export interface SurfaceOptions {
  channel: SendableChannels;
  /** The user's message to reply to (the first post); absent for replies without a source. */
  replyTo?: Message;
  minEditIntervalMs: number;
  /** Defaults to `DISCORD_PACING`. */
  pacing?: Partial<DiscordPacing> | undefined;
  locale?: string;
  stopLabel?: string;
}

export function stopRow(
  sourceId: string,
  label = 'Stop',
): APIActionRowComponent<APIComponentInMessageActionRow> {
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label,
        emoji: { name: '⏹️' },
        custom_id: `${STOP_PREFIX}:${sourceId}`,
      },
    ],
  };
}

export class DiscordReplySurface implements ReplySurface {
  readonly limits: SurfaceLimits;
  readonly locale?: Locale;
  private readonly opts: SurfaceOptions;
  private posted = 0;

  constructor(opts: SurfaceOptions) {
    this.opts = opts;
    const pacing = { ...DISCORD_PACING, ...opts.pacing };
    this.limits = {
      maxChars: DISCORD_MAX_CHARS,
      minEditIntervalMs: Math.max(pacing.minEditIntervalMs, opts.minEditIntervalMs),
      paceBucket: `discord:channel:${opts.channel.id}`,
      bucket: pacing.channelBucket,
    };
    if (opts.locale) this.locale = toLocale(opts.locale);
  }

  async post(text: string, options?: PostOptions): Promise<PostedMessage> {
    const components = options?.feedback
      ? [feedbackRow(options.feedback)]
      : options?.streaming
        ? [stopRow(this.opts.replyTo?.id ?? 'none', this.opts.stopLabel)]
        : [];
    const payload = { content: text, allowedMentions: NO_PINGS, components };
    const first = this.posted === 0 && this.opts.replyTo;
    // Sent through the channel this surface holds, not Message#reply: that looks the channel up in
    // discord.js's cache again, and a DM channel may have left it meanwhile (boundDmChannels).
    const sent = await this.opts.channel.send(
      first ? { ...payload, reply: { messageReference: first.id, failIfNotExists: false } } : payload,
    );
    this.posted++;
    return { id: sent.id };
  }

  async edit(message: PostedMessage, text: string, options?: EditOptions): Promise<void> {
    await this.opts.channel.messages.edit(message.id, {
      content: text,
      allowedMentions: NO_PINGS,
      // The final edit replaces the Stop row: with the 👍 / 👎 row on a finished answer's last message.
      ...(options?.final ? { components: options.feedback ? [feedbackRow(options.feedback)] : [] } : {}),
    });
  }

  async showTyping(): Promise<void> {
    await this.opts.channel.sendTyping();
  }

  /** Discord's spoiler; a `|` inside is escaped so the model's text cannot close it early. */
  spoiler(text: string): string {
    return `||${text.replace(/\|/g, '\\|')}||`;
  }
}

/** Edits (and follows up on) earlier answers by id, for the core's crash repair. */
export function discordEditor(rest: REST): MessageEditor {
  const mentions = { parse: [], replied_user: false };
  const channelOf = (conversation: { channel: string; thread?: string }) =>
    conversation.thread ?? conversation.channel;
  return {
    platform: 'discord',
    maxChars: DISCORD_MAX_CHARS,
    async editMessage(conversation, messageId, text) {
      // No components: the Stop button of the cut answer goes.
      await rest.patch(Routes.channelMessage(channelOf(conversation), messageId), {
        body: { content: text, allowed_mentions: mentions, components: [] },
      });
    },
    async postMessage(conversation, text) {
      await rest.post(Routes.channelMessages(channelOf(conversation)), {
        body: { content: text, allowed_mentions: mentions },
      });
    },
  };
}
