import type { Config } from '../config/schema.ts';
import { type Locale, t } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { QwenClient } from '../qwen/client.ts';
import { type ChatToolbox, callModel, describeFailure, type ModelAnswer } from './answer.ts';
import { prepareAttachments } from './attachments.ts';
import { BilledUsage } from './billing.ts';
import type { HistoryStore, Refusal, Turn, TurnStatus } from './history.ts';
import type { InflightTracker, ShownMessage } from './inflight.ts';
import type { EditPacer } from './pacer.ts';
import type { UserIndexStore } from './privacy.ts';
import { renderSystemPrompt, type TokenCalibrator } from './prompt.ts';
import type { TurnOutcome } from './service.ts';
import type { ConversationSettings, SettingsStore } from './settings.ts';
import { ReplyStreamer } from './streamer.ts';
import { type ConversationRef, conversationKey, type IncomingMessage, type ReplySurface } from './types.ts';
import { costOf, scopesFor, type UsageStore } from './usage.ts';

/** An answer streaming right now: what Stop and shutdown need to reach it. */
export interface ActiveAnswer {
  streamer: ReplyStreamer;
  controller: AbortController;
  askerId: string;
  /** The id of the message being answered (a terminal's Ctrl-C stops the answer by it). */
  questionId: string;
  stoppedBy?: string;
  /** Set when the bot itself cut the answer short (shutdown). */
  restarting?: boolean;
  /** Set when the conversation's shared turn was lost (Redis unreachable for a heartbeat). */
  turnLost?: boolean;
}

/** What one answer needs from the conversation service. */
export interface AnswerDeps {
  config: Config;
  qwen: QwenClient;
  log: Logger;
  pacer: EditPacer;
  now: () => number;
  calibrator: TokenCalibrator;
  history: HistoryStore;
  settings: SettingsStore;
  users: UserIndexStore;
  inflight: InflightTracker;
  usage: UsageStore;
  metrics?: Metrics;
  toolbox?: ChatToolbox;
  modelFor: (ref: ConversationRef, resolved?: ConversationSettings) => Promise<string>;
  /** The service's set of answers streaming; this answer is in it exactly while it runs. */
  active: Set<ActiveAnswer>;
}

interface Prompt {
  settings: ConversationSettings;
  system: string;
  turns: Turn[];
  images: Awaited<ReturnType<typeof prepareAttachments>>['images'];
}

interface Ending {
  status: TurnStatus;
  errorCode?: string;
  errorLine?: string;
  refused?: Refusal;
}

/**
 * One answer, in stages: open the reply → store the user's turn and build the prompt → stream the model
 * → finish the reply with its ending line → record usage and the answer. The reply is opened before
 * anything can fail, so a failure edits that one message into the error line; the active set, the
 * in-flight record and the gauge are released in `finally`, whatever throws.
 */
export class AnswerTurn {
  private readonly deps: AnswerDeps;
  private readonly message: IncomingMessage;
  private readonly surface: ReplySurface;
  private readonly locale: Locale;
  private readonly log: Logger;
  private readonly key: string;
  private readonly startedAt: number;
  private readonly streamer: ReplyStreamer;
  private readonly active: ActiveAnswer;
  private model: string;
  private readonly endings: string[] = [];
  private result: ModelAnswer | undefined;
  /** What DashScope bills, also for stopped and failed answers (estimated when no usage chunk came). */
  private readonly billed = new BilledUsage();
  private ending: Ending = { status: 'complete' };
  private observed = false;

  constructor(
    deps: AnswerDeps,
    message: IncomingMessage,
    surface: ReplySurface,
    locale: Locale,
    log: Logger,
    turnLost?: AbortSignal,
  ) {
    this.deps = deps;
    this.message = message;
    this.surface = surface;
    this.locale = locale;
    this.log = log;
    this.key = conversationKey(message.conversation);
    this.startedAt = deps.now();
    this.model = deps.config.qwen.defaultModel;
    const { config } = deps;
    this.streamer = new ReplyStreamer(surface, {
      pacer: deps.pacer,
      log,
      placeholder: config.streaming.placeholder,
      thinkingText: t(locale, 'status.thinking'),
      queuedText: (ahead) => t(locale, 'status.queued', { ahead }),
      quoteReasoning: config.streaming.reasoning === 'quote',
      onShown: (messages) => this.onShown(messages),
      minEditIntervalMs: config.streaming.minEditIntervalMs,
      now: deps.now,
    });
    this.active = {
      streamer: this.streamer,
      controller: new AbortController(),
      askerId: message.author.id,
      questionId: message.id,
    };
    turnLost?.addEventListener(
      'abort',
      () => {
        this.active.turnLost = true;
        this.active.controller.abort();
      },
      { once: true },
    );
  }

  async run(): Promise<TurnOutcome> {
    this.deps.active.add(this.active);
    this.deps.metrics?.activeStreams.inc();
    try {
      try {
        await this.streamer.start();
        const prompt = await this.preparePrompt();
        this.result = await this.callModel(prompt);
        if (this.result.model !== this.model) {
          this.endings.push(
            t(this.locale, 'fallback.answered_by', { model: this.result.model, wanted: this.model }),
          );
          this.model = this.result.model;
        }
        // Under a second of thinking is not worth a line.
        const thoughtSeconds = Math.round((this.streamer.thoughtMs ?? 0) / 1000);
        if (thoughtSeconds >= 1 && this.deps.config.streaming.showThinkingTime)
          this.endings.push(t(this.locale, 'thinking.took', { seconds: thoughtSeconds }));
        if (this.result.usedTools) this.endings.push(t(this.locale, 'faq.used'));
        if (this.result.finishReason === 'length') this.endings.unshift(t(this.locale, 'reply.cut_at_limit'));
        if (!this.streamer.text) this.endings.unshift(t(this.locale, 'reply.empty'));
      } catch (err) {
        this.ending = this.describe(err);
      }
      await this.finishReply();
      this.observe();
      await this.recordUsage();
      await this.storeAnswer();
      this.logFinished();
      return this.outcome();
    } finally {
      this.release();
    }
  }

  /** The crash-repair record follows what people can see. */
  private onShown(messages: ShownMessage[]): void {
    this.deps.inflight.update(this.message.id, {
      conversation: this.message.conversation,
      startedAt: this.startedAt,
      messages,
    });
  }

  /** Settings, model, attachments; stores the user's turn before the model is called. */
  private async preparePrompt(): Promise<Prompt> {
    const { config } = this.deps;
    const { message, locale } = this;
    const settings = await this.deps.settings.resolve(message.conversation);
    this.model = await this.deps.modelFor(message.conversation, settings);
    const files = await prepareAttachments(message.attachments, config.attachments, locale);
    this.endings.push(...files.notes);
    if (files.images.length && !config.models[this.model]?.vision) {
      this.model = config.qwen.visionModel;
      this.endings.push(t(locale, 'vision.routed', { model: this.model }));
    }
    const userText = files.fileText ? `${message.text}\n\n${files.fileText}` : message.text;
    // Stored before the model is called: a crash mid-answer loses nothing the user wrote.
    await this.deps.history.append(this.key, {
      role: 'user',
      text: userText,
      at: message.receivedAt,
      authorId: message.author.id,
      author: message.author.name,
      ...(files.images.length ? { images: files.images.length } : {}),
    });
    const turns = await this.deps.history.load(this.key);
    await this.deps.users.note(message.conversation, this.key, message.author.id);
    const system = renderSystemPrompt(settings.systemPrompt ?? config.systemPrompt, {
      botName: config.botName,
      platform: message.conversation.platform,
      now: new Date(this.deps.now()),
    });
    return { settings, system, turns, images: files.images };
  }

  private callModel(prompt: Prompt): Promise<ModelAnswer> {
    const { config, qwen } = this.deps;
    return callModel({
      qwen,
      config,
      calibrator: this.deps.calibrator,
      model: this.model,
      info: config.models[this.model],
      settings: prompt.settings,
      system: prompt.system,
      turns: prompt.turns,
      images: prompt.images,
      withNames: !this.message.conversation.isDM,
      signal: this.active.controller.signal,
      streamer: this.streamer,
      toolbox: this.deps.toolbox,
      billed: this.billed,
    });
  }

  private describe(failure: unknown): Ending {
    const aborted = this.active.controller.signal.aborted;
    const cause = { ...this.active, aborted };
    const view = describeFailure(failure, cause, this.locale, this.log, this.surface.audience);
    this.endings.unshift(view.errorLine);
    const { status, errorCode, errorLine, refused } = view;
    return { status, errorCode, errorLine, ...(refused ? { refused } : {}) };
  }

  private async finishReply(): Promise<void> {
    const ending = this.endings.join('\n');
    await this.streamer.finish((ending && this.surface.spellCommands?.(ending)) || ending || undefined);
  }

  private get cost(): number {
    const usage = this.billed.usage;
    return usage ? costOf(usage, this.deps.config.models[this.model]) : 0;
  }

  private async recordUsage(): Promise<void> {
    const usage = this.billed.usage;
    if (!usage) return;
    await this.deps.usage
      .record(scopesFor(this.message.conversation, this.message.author.id), usage, this.cost)
      .catch((err: unknown) => this.log.error({ err }, 'could not record usage'));
  }

  private async storeAnswer(): Promise<void> {
    // Another instance may be answering in this conversation now: appending would interleave with it.
    if (this.active.turnLost) return this.log.warn('turn lost: the answer is not stored');
    const text = this.streamer.text;
    const { status, refused } = this.ending;
    // A moderation refusal is stored even without text: its mark keeps the refused exchange out of prompts.
    if (!text && status === 'error' && !refused) return;
    const usage = this.billed.usage;
    const answerTurn: Turn = {
      role: 'assistant',
      text,
      at: this.deps.now(),
      model: this.model,
      status,
      ...(usage ? { usage } : {}),
      ...(refused ? { refused } : {}),
    };
    await this.deps.history
      .append(this.key, answerTurn)
      .catch((err: unknown) => this.log.error({ err }, 'could not store the answer'));
  }

  private logFinished(): void {
    this.log.info(
      {
        model: this.model,
        status: this.ending.status,
        errorCode: this.ending.errorCode,
        ms: this.deps.now() - this.startedAt,
        chars: this.streamer.text.length,
        edits: this.streamer.edits,
        posts: this.streamer.posts,
        usage: this.billed.usage,
      },
      'answer finished',
    );
  }

  private outcome(): TurnOutcome {
    const { status, errorCode, errorLine } = this.ending;
    const text = this.streamer.text;
    const model = this.model;
    if (status === 'error' || status === 'interrupted')
      return { status: 'error', text, model, errorCode: errorCode ?? 'internal', errorLine: errorLine ?? '' };
    if (status === 'stopped') return { status: 'stopped', text, model };
    return { status: 'answered', text, model };
  }

  /** Always runs: nothing of this answer stays registered, and the gauge comes back down. */
  private release(): void {
    this.deps.active.delete(this.active);
    this.deps.inflight.done(this.message.id);
    this.observe();
  }

  /** The answer's metrics, once (it also takes the answer off the active-streams gauge). */
  private observe(): void {
    if (this.observed) return;
    this.observed = true;
    this.deps.metrics?.observeAnswer({
      platform: this.message.conversation.platform,
      model: this.model,
      receivedAt: this.message.receivedAt,
      firstVisibleAt: this.streamer.firstVisibleAt,
      now: this.deps.now(),
      errorCode: this.ending.errorCode,
      usage: this.billed.usage,
      cost: this.cost,
    });
  }
}
