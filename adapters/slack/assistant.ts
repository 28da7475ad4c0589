/**
 * Slack's assistant view (the split pane, or the newer agent view): each assistant conversation is a
 * thread in the app's DM. On `assistant_thread_started` the thread gets suggested prompts (config, else
 * FAQ topics, in the person's language) and its context (the channel the person is viewing) is kept;
 * `assistant_thread_context_changed` updates it. Messages there are ordinary DM-thread messages: they
 * reach the core through the usual path, with a line telling the model which channel the person views
 * (its name only: never its messages). After the first answer a cheap model titles the thread.
 *
 * Plain event listeners rather than Bolt's `Assistant` class: that class takes over every DM-thread
 * message, and its default context store re-reads the thread (`conversations.replies`, about one call
 * a minute for apps outside the Marketplace); the context lives in our store instead.
 */
import type { App, webApi } from '@slack/bolt';
import type { Config } from '../../src/config/schema.ts';
import type { TitleWriter } from '../../src/core/thread-title.ts';
import type { ConversationRef } from '../../src/core/types.ts';
import { type Locale, t, toLocale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import type { Store } from '../../src/store/index.ts';
import type { UserDirectory } from './users.ts';

/** The `assistant_thread` of `assistant_thread_started` / `assistant_thread_context_changed`. */
export interface AssistantThread {
  user_id: string;
  channel_id: string;
  thread_ts: string;
  context?: { channel_id?: string; team_id?: string; enterprise_id?: string | null };
}

interface ThreadRecord {
  /** The channel the person was viewing when they opened (or last moved) the assistant pane. */
  viewing?: string;
  titled?: boolean;
}

export interface SuggestedPrompt {
  title: string;
  message: string;
}

/** Slack shows at most 4 suggested prompts. */
export const MAX_PROMPTS = 4;
const LOADING_KEYS = ['assistant.loading_1', 'assistant.loading_2', 'assistant.loading_3'] as const;

/** Rotating lines under the thread while an answer is prepared (`loading_messages`, at most 10). */
export function loadingMessages(locale: Locale): string[] {
  return LOADING_KEYS.map((key) => t(locale, key));
}

export interface AssistantDeps {
  client: webApi.WebClient;
  store: Store;
  config: Config;
  users: UserDirectory;
  log: Logger;
  teamId: string;
  /** FAQ questions, in file order (the default suggested prompts). */
  faqQuestions?: () => string[];
  /** Writes thread titles; without it threads keep Slack's own title. */
  writeTitle?: TitleWriter | undefined;
}

const HAN = /\p{Script=Han}/u;

/** Up to 4 prompts for a person: configured ones in their language, else FAQ questions, else a generic one. */
export function suggestedPrompts(
  config: Config['slack']['assistant'],
  faqQuestions: string[],
  locale: Locale,
): SuggestedPrompt[] {
  const configured = config.prompts.filter((p) => !p.locale || p.locale === locale);
  if (configured.length)
    return configured.slice(0, MAX_PROMPTS).map(({ title, message }) => ({ title, message }));
  // FAQ questions in the person's language first (the FAQ has no language field: Han script means zh).
  const ranked = [...faqQuestions].sort(
    (a, b) => Number(HAN.test(b) === (locale === 'zh')) - Number(HAN.test(a) === (locale === 'zh')),
  );
  const mine = ranked.filter((q) => HAN.test(q) === (locale === 'zh'));
  const picked = (mine.length ? mine : ranked).slice(0, MAX_PROMPTS);
  if (picked.length === 0)
    return [{ title: t(locale, 'assistant.prompt_help_title'), message: t(locale, 'assistant.prompt_help') }];
  // Slack cuts long prompt titles; the message carries the whole question.
  return picked.map((q) => ({ title: q.length > 75 ? `${q.slice(0, 74)}…` : q, message: q }));
}

/** Channel names are looked up once per this long (conversations.info is Tier 3). */
const NAME_TTL_MS = 10 * 60_000;

export class AssistantThreads {
  private readonly deps: AssistantDeps;
  private readonly ttlMs: number;
  private readonly names = new Map<string, { name: string | undefined; until: number }>();

  constructor(deps: AssistantDeps) {
    this.deps = deps;
    this.ttlMs = deps.config.history.retentionDays * 86_400_000;
  }

  listen(app: App, track: (work: Promise<unknown>) => void): void {
    app.event('assistant_thread_started', async ({ event }) => {
      track(this.started((event as unknown as { assistant_thread: AssistantThread }).assistant_thread));
    });
    // Slack's agent messaging (manifest `agent_view`) has no assistant_thread_started: the prompts go
    // to the DM when the person opens the app's Messages tab.
    app.event('app_home_opened', async ({ event }) => {
      if (this.deps.config.slack.assistant.view === 'agent' && event.tab === 'messages')
        track(this.messagesOpened(event.user, event.channel));
    });
    app.event('assistant_thread_context_changed', async ({ event }) => {
      track(
        this.contextChanged((event as unknown as { assistant_thread: AssistantThread }).assistant_thread),
      );
    });
  }

  /** A new assistant thread: remember what the person views, offer prompts in their language. */
  async started(thread: AssistantThread): Promise<void> {
    await this.save(thread, { viewing: thread.context?.channel_id });
    await this.offerPrompts(thread.user_id, thread.channel_id, thread.thread_ts);
  }

  /** Agent view: the person opened the app's Messages tab (its DM); the prompts go to the DM itself. */
  async messagesOpened(user: string, channel: string): Promise<void> {
    await this.offerPrompts(user, channel);
  }

  /** Suggested prompts in the person's language; `thread_ts` only in the assistant view (agent apps fail silently with it). */
  private async offerPrompts(user: string, channel: string, threadTs?: string): Promise<void> {
    const person = await this.deps.users.get(user);
    const locale = toLocale(person.locale, this.deps.config.locale);
    const prompts = suggestedPrompts(
      this.deps.config.slack.assistant,
      this.deps.faqQuestions?.() ?? [],
      locale,
    );
    await this.deps.client.assistant.threads.setSuggestedPrompts({
      channel_id: channel,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      title: t(locale, 'assistant.prompts_title'),
      prompts,
    });
  }

  async contextChanged(thread: AssistantThread): Promise<void> {
    const old = await this.record(thread.channel_id, thread.thread_ts);
    await this.save(thread, { ...old, viewing: thread.context?.channel_id });
  }

  /** Whether this conversation is an assistant thread the bot saw start. */
  async isAssistantThread(conversation: ConversationRef): Promise<boolean> {
    if (!conversation.isDM || !conversation.thread) return false;
    return (await this.record(conversation.channel, conversation.thread)) !== undefined;
  }

  /** Lines for the model: which channel the person is viewing (its name, never its messages). */
  async contextLines(conversation: ConversationRef): Promise<string[]> {
    if (!conversation.isDM || !conversation.thread) return [];
    const viewing = (await this.record(conversation.channel, conversation.thread))?.viewing;
    if (!viewing) return [];
    const name = await this.channelName(viewing);
    const where = name ? `#${name}` : `the channel with id ${viewing}`;
    return [
      `The user is viewing ${where} in Slack while talking to you. You cannot read that channel's messages; ` +
        'do not claim to know what was said there.',
    ];
  }

  /** After an answer: the first one in an assistant thread gives the thread its title. */
  async titleAfterAnswer(
    conversation: ConversationRef,
    question: string,
    answer: string,
    locale: Locale,
  ): Promise<void> {
    const { writeTitle, client, log } = this.deps;
    if (!writeTitle || !this.deps.config.slack.assistant.titles || !conversation.thread || !answer.trim())
      return;
    const record = await this.record(conversation.channel, conversation.thread);
    if (!record || record.titled) return;
    // Marked first: a second answer arriving meanwhile does not title the thread again.
    await this.put(conversation.channel, conversation.thread, { ...record, titled: true });
    const title = await writeTitle(question, answer, locale).catch((err: unknown) => {
      log.warn({ err }, 'thread title could not be written; Slack keeps its own');
      return undefined;
    });
    if (!title) return;
    await client.assistant.threads.setTitle({
      channel_id: conversation.channel,
      thread_ts: conversation.thread,
      title,
    });
  }

  private async channelName(channel: string): Promise<string | undefined> {
    const known = this.names.get(channel);
    if (known && known.until > Date.now()) return known.name;
    let name: string | undefined;
    try {
      const res = await this.deps.client.conversations.info({ channel });
      name = res.channel?.name ?? undefined;
    } catch (err) {
      this.deps.log.debug({ err, channel }, 'channel name not available; the model gets its id');
    }
    if (this.names.size > 1000) this.names.clear();
    this.names.set(channel, { name, until: Date.now() + NAME_TTL_MS });
    return name;
  }

  private key(channel: string, threadTs: string): string {
    return `slack-assistant:v1:${this.deps.teamId}:${channel}:${threadTs}`;
  }

  private async record(channel: string, threadTs: string): Promise<ThreadRecord | undefined> {
    return (await this.deps.store.get(this.key(channel, threadTs))) as ThreadRecord | undefined;
  }

  private async save(thread: AssistantThread, record: ThreadRecord): Promise<void> {
    await this.put(thread.channel_id, thread.thread_ts, record);
  }

  private async put(channel: string, threadTs: string, record: ThreadRecord): Promise<void> {
    await this.deps.store.set(this.key(channel, threadTs), record, this.ttlMs);
  }
}
