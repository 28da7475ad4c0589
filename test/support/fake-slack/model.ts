/**
 * What the fake Slack workspace holds: channels, messages, threads, streams and assistant statuses,
 * and how Slack would show a message to a person (entities decoded, links as their labels, which
 * mentions would ping).
 */

export interface FakeMessage {
  channel: string;
  ts: string;
  /** Parent ts for replies (top-level messages have none). */
  threadTs?: string;
  user: string;
  /** mrkdwn for chat.postMessage/update, standard Markdown for streamed messages. */
  text: string;
  format: 'mrkdwn' | 'markdown';
  bot: boolean;
  streaming: boolean;
  streamStartedAt?: number;
  /** When text last reached the stream (start or append); Slack closes a stream left idle. */
  lastAppendAt?: number;
  /**
   * Slack closed the stream itself (time limit or idle), not the app: the message stays in an unfinished,
   * broken state until the app replaces it with `chat.update` (python-slack-sdk#1859/#1880).
   */
  expired?: boolean;
  /** The text shows through a block (markdown or section) rather than `text`. */
  blockText?: boolean;
  /** Buttons of the message's `actions` blocks (Stop), as people see them and press them. */
  buttons?: FakeButton[];
  /** chat.update calls that changed this message. */
  updates: number;
  /** chat.startStream/appendStream/stopStream calls that added text. */
  appends: number;
  /** Every version the message had, first to last. */
  versions: string[];
  /** Tasks of a streamed message (`task_update` chunks), by id, as they show now. */
  tasks?: Map<string, { title: string; status: string }>;
  /** Every task update, in order (`title: status`). */
  taskUpdates?: string[];
  /** Files a person shared with the message (Slack file objects). */
  files?: unknown[];
  /** Block Kit blocks the message shows (chat.postMessage/update `blocks`, chat.stopStream's appended ones). */
  blocks?: Array<Record<string, unknown>>;
}

export interface FakeButton {
  actionId: string;
  blockId: string;
  label: string;
  value: string;
}

export interface Shown {
  ts: string;
  user: string;
  bot: boolean;
  /** What a person reads: entities decoded, invisible characters removed, links as their label. */
  text: string;
  /** Formatting as Slack interprets it (mrkdwn or Markdown), invisible characters removed. */
  formatted: string;
  format: 'mrkdwn' | 'markdown';
  links: Array<{ url: string; label: string }>;
  /** Mentions that would notify someone (`<!channel>`, `<@U1>`, `@here`…): must stay empty for bot text. */
  pings: string[];
  streaming: boolean;
  /** Left unfinished by a stream Slack closed on its own (an error pill in Slack's client). */
  broken: boolean;
  /** Buttons shown under the message (labels). */
  buttons: string[];
  updates: number;
  appends: number;
  /** The message's blocks (buttons and the like), as sent. */
  blocks: Array<Record<string, unknown>>;
}

const INVISIBLE = /\u200b|\u200c|\u200d|\u2060|\ufeff/g;
const PING =
  /<!(?:channel|here|everyone)(?:\|[^>]*)?>|<!subteam\^[^>]+>|<@[UW][A-Z0-9]+(?:\|[^>]*)?>|(?<![\w\u200b])@(?:channel|here|everyone)\b/gi;

export function pingsIn(raw: string): string[] {
  return [...raw.matchAll(PING)].map((m) => m[0]);
}

export function show(m: FakeMessage): Shown {
  const formatted = m.text.replace(INVISIBLE, '');
  const links: Shown['links'] = [];
  let text = formatted;
  if (m.format === 'mrkdwn') {
    text = text
      .replace(/<((?:https?|mailto):[^|>]+)\|([^>]*)>/g, (_x, url: string, label: string) => {
        links.push({ url, label });
        return label;
      })
      .replace(/<((?:https?|mailto):[^>]+)>/g, (_x, url: string) => {
        links.push({ url, label: url });
        return url;
      })
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  } else {
    text = text.replace(/\[([^\]]*)\]\(([^)\s]+)\)/g, (_x, label: string, url: string) => {
      links.push({ url, label });
      return label;
    });
  }
  return {
    ts: m.ts,
    user: m.user,
    bot: m.bot,
    text,
    formatted,
    format: m.format,
    links,
    pings: pingsIn(m.text),
    streaming: m.streaming,
    broken: m.expired === true,
    buttons: (m.buttons ?? []).map((b) => b.label),
    updates: m.updates,
    appends: m.appends,
    blocks: m.blocks ?? [],
  };
}

/** A `chat.postEphemeral`: shown to one user, never part of the channel or its history. */
export interface EphemeralMessage {
  channel: string;
  user: string;
  threadTs?: string;
  text: string;
  format: 'mrkdwn' | 'markdown';
  ts: string;
  /** False when sent into a thread that had no replies yet: Slack accepts it but shows nothing. */
  visible: boolean;
}

export class Workspace {
  readonly messages = new Map<string, FakeMessage[]>();
  /** Ephemeral messages, in order; people other than `user` never see them. */
  readonly ephemerals: EphemeralMessage[] = [];
  /** `channel:thread_ts` → the assistant status Slack shows under the thread right now. */
  readonly statuses = new Map<string, string>();
  /** `channel:thread_ts` → the loading messages Slack rotates with that status. */
  readonly loading = new Map<string, string[]>();
  /** `channel:thread_ts` → the suggested prompts of an assistant thread (`assistant.threads.setSuggestedPrompts`). */
  readonly prompts = new Map<
    string,
    { title?: string; prompts: Array<{ title: string; message: string }> }
  >();
  /** `channel:thread_ts` → the assistant thread's title (`assistant.threads.setTitle`). */
  readonly titles = new Map<string, string>();
  /** Channel names by id (`conversations.info`). */
  readonly channelNames = new Map<string, string>([
    ['C0GENERAL', 'general'],
    ['C0RANDOM', 'random'],
  ]);
  /** trigger_id → when Slack issued it (with an interaction); views.open takes it for 3 seconds. */
  readonly triggers = new Map<string, { at: number; user: string }>();
  /** Modals the app opened, in order (interactions.ts). */
  readonly views: Array<{ id: string; user: string; view: Record<string, unknown>; at: number }> = [];
  private seq = 0;
  private readonly epoch = Math.floor(Date.now() / 1000);

  nextTs(): string {
    this.seq++;
    return `${this.epoch + Math.floor(this.seq / 1000)}.${String(this.seq % 1_000_000).padStart(6, '0')}`;
  }

  add(message: Omit<FakeMessage, 'ts' | 'updates' | 'appends' | 'versions'> & { ts?: string }): FakeMessage {
    const m: FakeMessage = {
      ...message,
      ts: message.ts ?? this.nextTs(),
      updates: 0,
      appends: 0,
      versions: [message.text],
    };
    const list = this.messages.get(m.channel) ?? [];
    list.push(m);
    this.messages.set(m.channel, list);
    // A reply from the app clears its "is thinking…" status.
    if (m.bot && m.threadTs) {
      this.statuses.delete(`${m.channel}:${m.threadTs}`);
      this.loading.delete(`${m.channel}:${m.threadTs}`);
    }
    return m;
  }

  /** `chat.delete`: the message is gone for everyone. */
  remove(m: FakeMessage): void {
    const list = this.messages.get(m.channel) ?? [];
    this.messages.set(
      m.channel,
      list.filter((x) => x !== m),
    );
  }

  find(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.get(channel)?.find((m) => m.ts === ts);
  }

  setText(m: FakeMessage, text: string): void {
    m.text = text;
    m.versions.push(text);
  }

  /** Top-level messages of a channel, as the channel shows them. */
  channel(channel: string): Shown[] {
    return (this.messages.get(channel) ?? []).filter((m) => !m.threadTs).map(show);
  }

  /** The replies under a parent message, oldest first (the parent itself not included). */
  thread(channel: string, threadTs: string): Shown[] {
    return (this.messages.get(channel) ?? []).filter((m) => m.threadTs === threadTs).map(show);
  }
}
