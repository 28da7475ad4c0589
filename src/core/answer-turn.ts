import { type Locale, t } from '../i18n.ts';
import type { Logger } from '../log.ts';
import { inBackground } from '../store/statement-lanes.ts';
import { toolScopeOf } from '../tools/access.ts';
import { callModel, describeFailure, type ModelAnswer } from './answer.ts';
import {
  type ActiveAnswer,
  type AnswerDeps,
  type Ending,
  outcomeOf,
  type Prompt,
  type Question,
  readAnswerStart,
} from './answer-parts.ts';
import { usedToolsLine } from './answer-tools.ts';
import { prepareAttachments } from './attachments.ts';
import { BilledUsage } from './billing.ts';
import { attachDocuments, documentsModelLine, fileIdMessage, splitDocuments } from './document-intake.ts';
import type { DocumentRecord } from './documents.ts';
import type { Turn } from './history.ts';
import type { ShownMessage } from './inflight.ts';
import { renderSystemPrompt } from './prompt.ts';
import type { TurnOutcome } from './service.ts';
import { ReplyStreamer } from './streamer.ts';
import type { TurnStart } from './turn-store.ts';
import { conversationKey, type IncomingMessage, type ReplySurface } from './types.ts';
import { cacheSavingOf, costOf, scopesFor } from './usage.ts';

/** Reasoning shown behind a spoiler at most (its end, where the model concludes); keeps the reply readable. */
const SPOILER_CHARS = 1000;

/**
 * One answer, in two phases. `arrive` runs in the conversation's turn, in arrival order, and is short:
 * settings, model, attachments, then the user's turn is stored with the slot of its answer reserved.
 * `answer` runs outside it (in the asker's lane, so several askers are answered side by side): open
 * the reply → read the turns before the slot → stream the model → finish the reply with its ending line
 * → record usage and store the answer in its slot. A failure while arriving is shown when the answer
 * phase opens the reply, so it edits that one message into the error line; the active set, the
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
  private readonly started: Promise<TurnStart> | undefined;
  private readonly streamer: ReplyStreamer;
  private readonly active: ActiveAnswer;
  private model: string;
  private readonly endings: string[] = [];
  private result: ModelAnswer | undefined;
  /** What DashScope bills, also for stopped and failed answers (estimated when no usage chunk came). */
  private readonly billed = new BilledUsage();
  private ending: Ending = { status: 'complete' };
  private observed = false;
  /** Set once the question is stored; undefined when arriving failed (`ending` says why). */
  private question: Question | undefined;
  private docs: DocumentRecord[] = [];

  constructor(
    deps: AnswerDeps,
    message: IncomingMessage,
    surface: ReplySurface,
    locale: Locale,
    log: Logger,
    /** The conversation's batched read, when the caller started it already (readAnswerStart). */
    started?: Promise<TurnStart>,
  ) {
    this.deps = deps;
    this.started = started;
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
      toolText: (tools) => t(locale, 'tools.running', { tools }),
      quoteReasoning: config.streaming.reasoning === 'quote',
      ...(config.streaming.reasoning === 'spoiler' && surface.spoiler
        ? { keepReasoningChars: SPOILER_CHARS }
        : {}),
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
  }

  /**
   * The conversation's shared turn was lost while the question was stored (Redis unreachable for a
   * heartbeat): another instance may write in the conversation now, so the answer stops, unstored.
   */
  loseTurn(): void {
    this.active.turnLost = true;
    this.active.controller.abort();
  }

  /** The arrival phase (in the conversation's turn); never throws, a failure ends the answer later. */
  async arrive(): Promise<void> {
    // From now on Stop and shutdown reach the answer, also while it waits for its lane.
    this.deps.active.add(this.active);
    try {
      this.question = await this.prepareQuestion();
    } catch (err) {
      this.ending = this.describe(err);
    }
  }

  /** The answer phase (outside the conversation's turn). */
  async answer(): Promise<TurnOutcome> {
    this.deps.metrics?.activeStreams.inc();
    try {
      try {
        await this.streamer.start();
        const question = this.question;
        if (question) this.result = await this.callModel(await this.preparePrompt(question));
      } catch (err) {
        this.ending = this.describe(err);
      }
      if (this.result) {
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
        const reasoning = this.streamer.keptReasoning;
        if (reasoning && this.surface.spoiler) this.endings.push(this.surface.spoiler(reasoning));
        this.endings.push(...usedToolsLine(this.result.usedTools, this.locale));
        if (this.result.finishReason === 'length') this.endings.unshift(t(this.locale, 'reply.cut_at_limit'));
        if (!this.streamer.text) this.endings.unshift(t(this.locale, 'reply.empty'));
      }
      await this.finishReply();
      this.observe();
      // The answer is shown: what is left is bookkeeping, which gives way to other answers' first words.
      await inBackground(async () => {
        await this.recordUsage();
        await this.storeAnswer();
      });
      this.logFinished();
      return outcomeOf(this.ending, this.streamer.text, this.model);
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
      ...(this.question ? { slot: this.question.slot } : {}),
    });
  }

  /**
   * Attachments, settings, model; stores the user's turn and reserves its answer's slot. The store sees
   * one batched read (settings and history meta) and one write (the turn and the meta).
   */
  private async prepareQuestion(): Promise<Question> {
    const { config } = this.deps;
    const { message, locale } = this;
    const split = this.deps.documents
      ? splitDocuments(message.attachments, config, locale)
      : { documents: [], rest: message.attachments, notes: [] };
    const files = await prepareAttachments(split.rest, config.attachments, locale);
    const start = await (this.started ?? readAnswerStart(this.deps, message.conversation));
    const listedDocuments = this.deps.documents
      ? ((start.also[0] as DocumentRecord[] | undefined) ?? [])
      : undefined;
    const { settings } = start;
    this.model = await this.deps.modelFor(message.conversation, settings, start.workspace);
    this.endings.push(...(message.notes ?? []), ...split.notes, ...files.notes);
    if (files.images.length && !config.models[this.model]?.vision) {
      this.model = config.qwen.visionModel;
      this.endings.push(t(locale, 'vision.routed', { model: this.model }));
    }
    const named = split.documents.map((d) => `[document ${d.name}]`);
    const userText = [message.text, ...named, files.fileText].filter(Boolean).join('\n\n');
    const turn: Turn = {
      role: 'user',
      text: userText,
      at: message.receivedAt,
      authorId: message.author.id,
      author: message.author.name,
      ...(files.images.length ? { images: files.images.length } : {}),
    };
    // Stored before the model is called: a crash mid-answer loses nothing the user wrote.
    // Side by side: the /forget index must know the conversation before the model is called, not
    // before the turn is stored (a crash in between leaves a conversation /forget finds, with no turn).
    // The prompt's earlier turns are read beside the write too: the turns that arrived before it.
    const [{ slot, meta }, , earlier] = await Promise.all([
      this.deps.history.appendQuestion(this.key, turn, start.meta),
      this.deps.users.note(message.conversation, this.key, message.author.id),
      start.meta ? this.deps.history.loadBeside(this.key, start.meta) : undefined,
    ]);
    const rendered = renderSystemPrompt(settings.systemPrompt ?? config.systemPrompt, {
      botName: config.botName,
      platform: message.conversation.platform,
      now: new Date(this.deps.now()),
      hourlyTime: config.models[this.model]?.cache === 'explicit',
    });
    const system = [rendered, ...(message.context ?? [])].filter((line) => line.trim()).join('\n\n');
    return {
      settings,
      workspace: start.workspace,
      system,
      turn,
      slot,
      meta,
      ...(earlier ? { earlier } : {}),
      images: files.images,
      documents: split.documents,
      ...(listedDocuments ? { listedDocuments } : {}),
    };
  }

  /**
   * Every turn stored before the question arrived: earlier questions (answered or not) and the answers
   * that were done, nothing that arrived later. After a /reset only the question itself is left.
   */
  private async preparePrompt(question: Question): Promise<Prompt> {
    // No earlier turn in the window (a new conversation): the prompt is the question, read or not.
    const alone = question.slot.seq - 1 <= question.meta.head;
    // Read beside the question's write (what the write trimmed off the window left out). Used when no
    // slot before the question was empty: an empty one is an answer still coming (the asker's own
    // earlier answer among them, which this prompt must hold), so the turns are read again now.
    const earlier = question.earlier?.filter((e) => e.seq >= question.meta.head);
    const complete = earlier?.length === question.slot.seq - 1 - question.meta.head;
    const turns = alone
      ? []
      : earlier && complete
        ? [...earlier.map((e) => e.turn), question.turn]
        : await this.deps.history.load(this.key, question.slot, question.meta);
    const docs = await this.documentsFor(question);
    return { ...question, turns: turns.length ? turns : [question.turn], docs };
  }

  /** The conversation's documents, after uploading the question's own; they make qwen-long answer. */
  private async documentsFor(question: Question): Promise<DocumentRecord[]> {
    if (!this.deps.documents) return [];
    const { docs, notes } = await attachDocuments(this.deps.documents, {
      ...this.deps,
      conversation: this.key,
      pending: question.documents,
      ...(question.listedDocuments ? { existing: question.listedDocuments } : {}),
      stillAsked: () => this.deps.history.holds(this.key, question.slot),
      authorId: this.message.author.id,
      locale: this.locale,
      streamer: this.streamer,
      signal: this.active.controller.signal,
      log: this.log,
    });
    this.endings.push(...notes);
    if (docs.length) this.model = this.deps.config.documents.model;
    this.docs = docs;
    return docs;
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
      workspaceSettings: prompt.workspace,
      system: prompt.system,
      turns: prompt.turns,
      images: prompt.images,
      withNames: !this.message.conversation.isDM,
      signal: this.active.controller.signal,
      streamer: this.streamer,
      toolbox: this.deps.toolbox,
      scope: toolScopeOf(this.message.conversation, this.message.author.id),
      billed: this.billed,
      documents: prompt.docs.length ? fileIdMessage(prompt.docs) : undefined,
    });
  }

  private describe(failure: unknown): Ending {
    const aborted = this.active.controller.signal.aborted;
    const cause = { ...this.active, aborted };
    const spell = this.deps.spelling.of(this.message.conversation.platform);
    const view = describeFailure(failure, cause, this.locale, this.log, this.surface.audience, spell);
    view.errorLine = documentsModelLine(failure, this.docs, this.deps.config, this.locale) ?? view.errorLine;
    this.endings.unshift(view.errorLine);
    const { status, errorCode, errorLine, refused } = view;
    return { status, errorCode, errorLine, ...(refused ? { refused } : {}) };
  }

  private async finishReply(): Promise<void> {
    const ending = this.endings.join('\n');
    // Only a finished answer is rated: not an error, a stopped or an empty one.
    const rated =
      this.deps.config.feedback.enabled && this.ending.status === 'complete' && this.streamer.text;
    await this.streamer.finish(ending || undefined, { feedback: rated ? { model: this.model } : undefined });
  }

  /** What this answer cost and what the context cache saved on it, at the model's catalogue prices. */
  private get priced(): { cost: number; saving: number } {
    const usage = this.billed.usage;
    const price = this.deps.config.models[this.model];
    return usage
      ? { cost: costOf(usage, price), saving: cacheSavingOf(usage, price) }
      : { cost: 0, saving: 0 };
  }

  private async recordUsage(): Promise<void> {
    const usage = this.billed.usage;
    if (!usage) return;
    const { cost, saving } = this.priced;
    await this.deps.usage
      .record(scopesFor(this.message.conversation, this.message.author.id), usage, cost, saving)
      .catch((err: unknown) => this.log.error({ err }, 'could not record usage'));
  }

  private async storeAnswer(): Promise<void> {
    const slot = this.question?.slot;
    if (!slot) return;
    // Another instance may be answering in this conversation now: storing could interleave with it.
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
    const stored = await this.deps
      .inTurn(this.key, async (lost) =>
        lost?.aborted ? false : this.deps.history.storeAnswer(this.key, slot, answerTurn),
      )
      .catch((err: unknown) => {
        this.log.error({ err }, 'could not store the answer');
        return true;
      });
    if (!stored) this.log.info('answer not stored: its conversation was reset or its question forgotten');
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
      cost: this.priced.cost,
      cacheSaving: this.priced.saving,
    });
  }
}
