/**
 * Translate and Summarize on any message (Discord message context menus, Slack message shortcuts).
 * Platform-free: adapters read the message or the thread and show the reply privately; this module runs
 * the guards, calls the model, counts the usage, and words every outcome as a line for the person.
 */
import type { Config } from '../config/schema.ts';
import { type Locale, t, toLocale } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { ChatResult, QwenClient, Usage } from '../qwen/client.ts';
import type { CompletionRequest } from '../qwen/complete.ts';
import { QwenError } from '../qwen/errors.ts';
import { type Guard, runGuards } from './guards.ts';
import type { Author, ConversationRef } from './types.ts';
import { costOf, scopesFor, type UsageStore } from './usage.ts';

export type MessageAction = 'translate' | 'summarize';

/** The model calls the actions make: one plain completion (qwen-mt), one streamed chat (summaries). */
export interface ActionModelPort {
  complete(req: CompletionRequest): Promise<ChatResult>;
  streamChat: QwenClient['streamChat'];
}

export interface MessageActionContext {
  /** The platform's id of this invocation (Discord interaction id, Slack trigger_id): deduped. */
  id: string;
  /** Where the message is. */
  conversation: ConversationRef;
  /** Who asked; `author.locale` (the platform's tag) picks the target language and the lines' language. */
  author: Author;
  receivedAt: number;
}

/** One message of a thread, as the summary's prompt shows it. */
export interface ThreadLine {
  author: string;
  text: string;
}

export interface ActionReply {
  text: string;
  ok: boolean;
}

export interface MessageActionsDeps {
  config: Pick<Config, 'translate' | 'summarize' | 'models' | 'locale'>;
  model: ActionModelPort;
  usage: UsageStore;
  /** Access lists, per-user rate limit and daily quota: the guards every message passes. */
  guards: Guard[];
  metrics?: Metrics | undefined;
  log: Logger;
}

const SUMMARY_MAX_TOKENS = 800;
// Made on first use: ICU's display-name data costs an idle bot ~6 MB of resident memory.
let languageNames: Intl.DisplayNames | undefined;

/**
 * The English name qwen-mt takes as `target_lang` for a platform locale tag (Discord "fr", "pt-BR",
 * "zh-TW"; Slack "fr-FR"): "French", "Portuguese", "Traditional Chinese". Unknown tags: undefined.
 */
export function targetLanguage(tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  const [base = '', region = ''] = tag.replace('_', '-').split('-');
  const lang = base.toLowerCase();
  if (lang === 'zh') return /^(tw|hk|mo|hant)$/i.test(region) ? 'Traditional Chinese' : 'Chinese';
  if (!/^[a-z]{2,3}$/.test(lang)) return undefined;
  try {
    languageNames ??= new Intl.DisplayNames(['en'], { type: 'language' });
    const name = languageNames.of(lang);
    return name && name !== lang ? name : undefined;
  } catch {
    return undefined;
  }
}

export class MessageActions {
  private readonly deps: MessageActionsDeps;
  private readonly log: Logger;

  constructor(deps: MessageActionsDeps) {
    this.deps = deps;
    this.log = deps.log.child({ component: 'message-actions' });
  }

  /** Where a thread's messages are read from, at most this many (adapters cap it to their platform). */
  get maxMessages(): number {
    return this.deps.config.summarize.maxMessages;
  }

  /** The lines' language for this person (their platform locale, else config `locale`). */
  localeOf(author: Author): Locale {
    return toLocale(author.locale, this.deps.config.locale);
  }

  /** The message's text in the asker's language, by qwen-mt: one user message, no system message. */
  async translate(ctx: MessageActionContext, text: string): Promise<ActionReply> {
    const locale = this.localeOf(ctx.author);
    const refused = await this.refusal(ctx, locale);
    if (refused) return this.done(ctx, 'translate', 'refused', refused);
    const source = text.trim();
    if (!source) return this.done(ctx, 'translate', 'empty', t(locale, 'action.translate_empty'));
    const { model, maxChars } = this.deps.config.translate;
    const chars = [...source].length;
    if (chars > maxChars) {
      const line = t(locale, 'action.translate_too_long', { chars, max: maxChars });
      return this.done(ctx, 'translate', 'too_long', line);
    }
    const language =
      targetLanguage(ctx.author.locale) ?? targetLanguage(this.deps.config.locale) ?? 'English';
    try {
      const result = await this.deps.model.complete({
        model,
        messages: [{ role: 'user', content: source }],
        translationOptions: { source_lang: 'auto', target_lang: language },
      });
      await this.account(ctx, 'translate', model, result.usage);
      const header = t(locale, 'action.translated', { language });
      return this.done(ctx, 'translate', 'ok', `${header}\n${result.text.trim()}`, true);
    } catch (err) {
      const line = t(locale, 'action.translate_failed', { why: this.why(err, locale) });
      return this.failed(ctx, 'translate', err, line);
    }
  }

  /** A short summary of the messages (oldest first), written by the cheap summary model. */
  async summarize(ctx: MessageActionContext, lines: ThreadLine[]): Promise<ActionReply> {
    const locale = this.localeOf(ctx.author);
    const refused = await this.refusal(ctx, locale);
    if (refused) return this.done(ctx, 'summarize', 'refused', refused);
    const kept = this.fit(lines.filter((l) => l.text.trim()));
    if (kept.length === 0) return this.done(ctx, 'summarize', 'empty', t(locale, 'action.summarize_empty'));
    const { model } = this.deps.config.summarize;
    const language =
      targetLanguage(ctx.author.locale) ?? targetLanguage(this.deps.config.locale) ?? 'English';
    const transcript = kept.map((l) => `${l.author}: ${l.text.trim()}`).join('\n');
    try {
      const stream = this.deps.model.streamChat({
        model,
        maxTokens: SUMMARY_MAX_TOKENS,
        enableThinking: false,
        messages: [
          {
            role: 'system',
            content: `Summarize this chat conversation for someone who has not read it: at most 6 short bullet points, in ${language}. Keep names, decisions, open questions and deadlines. Never write @-mentions.`,
          },
          { role: 'user', content: transcript },
        ],
      });
      let next = await stream.next();
      while (!next.done) next = await stream.next();
      const result = next.value;
      await this.account(ctx, 'summarize', model, result.usage);
      const header = t(locale, 'action.summary', { count: kept.length });
      return this.done(ctx, 'summarize', 'ok', `${header}\n${result.text.trim()}`, true);
    } catch (err) {
      const line = t(locale, 'action.summarize_failed', { why: this.why(err, locale) });
      return this.failed(ctx, 'summarize', err, line);
    }
  }

  /** The newest messages that fit `summarize.maxChars`, oldest first. */
  private fit(lines: ThreadLine[]): ThreadLine[] {
    const { maxChars } = this.deps.config.summarize;
    const kept: ThreadLine[] = [];
    let used = 0;
    for (const line of [...lines].reverse()) {
      const size = line.author.length + line.text.length + 2;
      if (used + size > maxChars) {
        // The newest message alone may be over the budget: its beginning still goes in.
        if (kept.length === 0) kept.push({ ...line, text: line.text.slice(0, maxChars) });
        break;
      }
      used += size;
      kept.unshift(line);
    }
    return kept;
  }

  private async refusal(ctx: MessageActionContext, locale: Locale): Promise<string | undefined> {
    const verdict = await runGuards(
      this.deps.guards,
      {
        id: `action:${ctx.id}`,
        conversation: ctx.conversation,
        author: ctx.author,
        text: 'message action',
        attachments: [],
        addressed: true,
        receivedAt: ctx.receivedAt,
      },
      locale,
    );
    if (verdict.pass) return undefined;
    // A silent refusal (a duplicate delivery, a bot) still answers the interaction with something.
    return verdict.line || t(locale, 'guard.denied');
  }

  private why(err: unknown, locale: Locale): string {
    return err instanceof QwenError ? err.userMessage(locale) : t(locale, 'error.internal');
  }

  /** Counted in /usage like an answer (conversation, user, workspace), and in the token metrics. */
  private async account(
    ctx: MessageActionContext,
    action: MessageAction,
    model: string,
    usage: Usage | null,
  ): Promise<void> {
    if (!usage) return;
    const cost = costOf(usage, this.deps.config.models[model]);
    this.deps.metrics?.observeAction({ platform: ctx.conversation.platform, model, usage, cost });
    this.log.info(
      { action, model, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, cost },
      `${action} answered`,
    );
    await this.deps.usage
      .record(scopesFor(ctx.conversation, ctx.author.id), usage, cost)
      .catch((err: unknown) => this.log.error({ err }, 'could not record usage'));
  }

  private failed(ctx: MessageActionContext, action: MessageAction, err: unknown, line: string): ActionReply {
    const log = err instanceof QwenError ? { err: err.toLog() } : { err };
    this.log.warn({ ...log, action, user: ctx.author.id }, `${action} failed`);
    return this.done(ctx, action, 'error', line);
  }

  private done(
    ctx: MessageActionContext,
    action: MessageAction,
    outcome: string,
    text: string,
    ok = false,
  ): ActionReply {
    this.deps.metrics?.messageActions.inc({ platform: ctx.conversation.platform, action, outcome });
    if (!ok && outcome !== 'error')
      this.log.info({ action, outcome, user: ctx.author.id }, `${action}: ${outcome}`);
    return { text, ok };
  }
}
