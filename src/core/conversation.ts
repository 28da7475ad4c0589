import type { Config } from '../config/schema.ts';
import { type Locale, t, toLocale } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { QwenClient } from '../qwen/client.ts';
import { type Coordinator, LocalCoordinator } from '../store/coordination.ts';
import { type Store, StoreError } from '../store/index.ts';
import { type ChatToolbox, callModel, describeFailure, type ModelAnswer } from './answer.ts';
import { prepareAttachments } from './attachments.ts';
import { BilledUsage } from './billing.ts';
import { builtinCommands } from './commands/builtin.ts';
import { CommandRegistry, type CommandSpec, parseCommandText } from './commands/registry.ts';
import { settingsCommands, workspaceKey } from './commands/settings-commands.ts';
import { type Guard, runGuards, standardGuards } from './guards.ts';
import { HistoryStore, type Refusal, type Turn, type TurnStatus } from './history.ts';
import { InflightTracker, type MessageEditor, repairInterrupted } from './inflight.ts';
import { KeyedQueue } from './keyed-queue.ts';
import { EditPacer } from './pacer.ts';
import { forgetCommand, UserIndexStore } from './privacy.ts';
import { renderSystemPrompt, TokenCalibrator } from './prompt.ts';
import type { ChatService, TurnOutcome } from './service.ts';
import { type ConversationSettings, SettingsStore } from './settings.ts';
import { ReplyStreamer } from './streamer.ts';
import {
  type Author,
  type CommandInvocation,
  type CommandResult,
  type ConversationRef,
  conversationKey,
  type IncomingMessage,
  type ReplySurface,
} from './types.ts';
import { costOf, dailyQuota, scopesFor, UsageStore } from './usage.ts';

export interface ConversationDeps {
  config: Config;
  store: Store;
  qwen: QwenClient;
  log: Logger;
  pacer?: EditPacer;
  /** Shared state across instances (Redis); in-process by default. */
  coordinator?: Coordinator;
  now?: () => number;
  /** Commands from other modules (FAQ), registered with the built-in ones. */
  extraCommands?: CommandSpec[];
  metrics?: Metrics;
  /** Tools the model may call in chat (the FAQ). */
  toolbox?: ChatToolbox;
}

interface ActiveAnswer {
  streamer: ReplyStreamer;
  controller: AbortController;
  askerId: string;
  stoppedBy?: string;
  /** Set when the bot itself cut the answer short (shutdown). */
  restarting?: boolean;
}

/** The one path every message takes: guards → per-conversation queue → history → model → streamed reply. */
export class ConversationService implements ChatService {
  readonly history: HistoryStore;
  readonly settings: SettingsStore;
  readonly usage: UsageStore;
  readonly registry = new CommandRegistry();
  readonly queue = new KeyedQueue();
  readonly calibrator = new TokenCalibrator();
  readonly coordinator: Coordinator;
  readonly inflight: InflightTracker;
  readonly users: UserIndexStore;
  private readonly deps: ConversationDeps;
  private readonly log: Logger;
  private readonly pacer: EditPacer;
  private readonly guards: Guard[];
  private readonly active = new Set<ActiveAnswer>();
  private readonly now: () => number;
  private closing = false;

  constructor(deps: ConversationDeps) {
    this.deps = deps;
    this.log = deps.log.child({ component: 'conversation' });
    this.coordinator = deps.coordinator ?? new LocalCoordinator(deps.store);
    const coord = this.coordinator;
    this.pacer =
      deps.pacer ?? new EditPacer((key, spec) => coord.limiter(`pace:${key}`, spec.points, spec.durationSec));
    this.now = deps.now ?? Date.now;
    const { config, store } = deps;
    this.history = new HistoryStore(store, {
      maxTurns: config.history.maxTurns,
      retentionMs: config.history.retentionDays * 86_400_000,
    });
    this.settings = new SettingsStore(store, {
      cache: !this.coordinator.shared,
      retentionMs: config.store.settingsRetentionDays * 86_400_000,
    });
    this.inflight = new InflightTracker(store, config.instanceId, this.log);
    this.users = new UserIndexStore(store, coord, config.history.retentionDays * 86_400_000);
    this.usage = new UsageStore(this.coordinator, this.now, config.usage.totalsRetentionDays * 86_400_000);
    this.guards = [...standardGuards(config.guards, coord), dailyQuota(this.usage, config.usage)];
    const modelFor = (ref: ConversationRef) => this.modelFor(ref);
    const specs = [
      ...builtinCommands({
        config,
        registry: this.registry,
        history: this.history,
        settings: this.settings,
        modelFor,
        probeModel: config.qwen.verifyModelSwitch ? (m) => deps.qwen.probe(m) : undefined,
      }),
      ...settingsCommands({ config, settings: this.settings, usage: this.usage, modelFor }),
      forgetCommand({
        config,
        history: this.history,
        settings: this.settings,
        usage: this.usage,
        users: this.users,
      }),
      ...(deps.extraCommands ?? []),
    ];
    for (const spec of specs) this.registry.add(spec);
  }

  /**
   * The conversation's own choice (a thread inherits its channel's), else the workspace default, else
   * the configured default.
   */
  async modelFor(ref: ConversationRef, resolved?: ConversationSettings): Promise<string> {
    const models = this.deps.config.models;
    const mine = (resolved ?? (await this.settings.resolve(ref))).model;
    if (mine && models[mine]) return mine;
    const workspace = (await this.settings.get(workspaceKey(ref))).model;
    if (workspace && models[workspace]) return workspace;
    return this.deps.config.qwen.defaultModel;
  }

  commands(): CommandSpec[] {
    return this.registry.list();
  }

  /** Answers currently streaming. */
  get activeCount(): number {
    return this.active.size;
  }

  async handleMessage(message: IncomingMessage, surface: ReplySurface): Promise<TurnOutcome> {
    // Queued before any await, so one conversation's messages keep their arrival order end to end.
    const key = conversationKey(message.conversation);
    // The place in line across instances is taken at arrival too; it is served in that order.
    const place = this.coordinator.shared ? this.coordinator.turn(key) : undefined;
    place?.catch(() => undefined);
    const pending = this.queue.run(key, async () => {
      const turn = await place?.catch((err: unknown) =>
        err instanceof Error ? err : new Error(String(err)),
      );
      if (turn instanceof Error) {
        const locale = toLocale(message.author.locale ?? surface.locale, this.deps.config.locale);
        this.log.error({ err: turn, conversation: key }, 'could not take a turn in the shared store');
        return this.refuse(surface, 'store unavailable', t(locale, 'error.store'), this.log);
      }
      try {
        return await this.process(message, surface);
      } finally {
        await turn?.release();
      }
    });
    this.deps.metrics?.queueDepth.set(this.queue.size);
    const outcome = await pending;
    this.deps.metrics?.queueDepth.set(this.queue.size);
    this.deps.metrics?.messages.inc({ platform: message.conversation.platform, outcome: outcome.status });
    return outcome;
  }

  private async process(message: IncomingMessage, surface: ReplySurface): Promise<TurnOutcome> {
    const locale = toLocale(message.author.locale ?? surface.locale, this.deps.config.locale);
    const log = this.log.child({
      conversation: conversationKey(message.conversation),
      messageId: message.id,
    });
    if (this.closing) {
      if (!message.addressed || message.author.isBot) return { status: 'ignored', reason: 'shutting down' };
      return this.refuse(surface, 'shutting down', t(locale, 'status.shutting_down'), log);
    }
    let verdict: Awaited<ReturnType<typeof runGuards>>;
    try {
      verdict = await runGuards(this.guards, message, locale);
    } catch (err) {
      log.error({ err }, 'guard failed');
      return this.refuse(
        surface,
        'guard error',
        t(locale, err instanceof StoreError ? 'error.store' : 'error.internal'),
        log,
      );
    }
    if (!verdict.pass) {
      log.debug({ guard: verdict.guard, reason: verdict.reason }, 'message not answered');
      if (verdict.line) return this.refuse(surface, verdict.reason, verdict.line, log);
      return { status: 'ignored', reason: verdict.reason };
    }
    const command = message.attachments.length === 0 ? parseCommandText(message.text) : undefined;
    if (command && this.registry.get(command.name)) {
      const result = await this.runCommand({
        ...command,
        conversation: message.conversation,
        author: message.author,
        locale,
      });
      const text = surface.spellCommands?.(result.text) ?? result.text;
      await surface.post(text).catch((err: unknown) => log.warn({ err }, 'command reply failed'));
      return { status: 'command', result };
    }
    return this.answer(message, surface, locale, log);
  }

  private async refuse(
    surface: ReplySurface,
    reason: string,
    line: string,
    log: Logger,
  ): Promise<TurnOutcome> {
    const spelled = surface.spellCommands?.(line) ?? line;
    await surface.post(spelled).catch((err: unknown) => log.warn({ err }, 'could not deliver refusal line'));
    return { status: 'refused', reason, line: spelled };
  }

  private async answer(
    message: IncomingMessage,
    surface: ReplySurface,
    locale: Locale,
    log: Logger,
  ): Promise<TurnOutcome> {
    const { config, qwen } = this.deps;
    const key = conversationKey(message.conversation);
    const startedAt = this.now();
    let model = config.qwen.defaultModel;
    const endings: string[] = [];
    const streamer = new ReplyStreamer(surface, {
      pacer: this.pacer,
      log,
      placeholder: config.streaming.placeholder,
      thinkingText: t(locale, 'status.thinking'),
      quoteReasoning: config.streaming.reasoning === 'quote',
      onShown: (messages) =>
        this.inflight.update(message.id, { conversation: message.conversation, startedAt, messages }),
      minEditIntervalMs: config.streaming.minEditIntervalMs,
      now: this.now,
    });
    const active: ActiveAnswer = { streamer, controller: new AbortController(), askerId: message.author.id };
    this.active.add(active);
    const metrics = this.deps.metrics;
    metrics?.activeStreams.inc();
    let result: ModelAnswer | undefined;
    let failure: unknown;
    const billed = new BilledUsage();
    try {
      const startPromise = streamer.start();
      const settings = await this.settings.resolve(message.conversation);
      model = await this.modelFor(message.conversation, settings);
      const files = await prepareAttachments(message.attachments, config.attachments, locale);
      endings.push(...files.notes);
      if (files.images.length && !config.models[model]?.vision) {
        model = config.qwen.visionModel;
        endings.push(t(locale, 'vision.routed', { model }));
      }
      const info = config.models[model];
      const userText = files.fileText ? `${message.text}\n\n${files.fileText}` : message.text;
      // Stored before the model is called: a crash mid-answer loses nothing the user wrote.
      await this.history.append(key, {
        role: 'user',
        text: userText,
        at: message.receivedAt,
        authorId: message.author.id,
        author: message.author.name,
        ...(files.images.length ? { images: files.images.length } : {}),
      });
      const turns = await this.history.load(key);
      await this.users.note(message.conversation, key, message.author.id);
      const system = renderSystemPrompt(settings.systemPrompt ?? config.systemPrompt, {
        botName: config.botName,
        platform: message.conversation.platform,
        now: new Date(this.now()),
      });
      await startPromise;
      result = await callModel({
        qwen,
        config,
        calibrator: this.calibrator,
        model,
        info,
        settings,
        system,
        turns,
        images: files.images,
        withNames: !message.conversation.isDM,
        signal: active.controller.signal,
        streamer,
        toolbox: this.deps.toolbox,
        billed,
      });
      if (result.usedTools) endings.push(t(locale, 'faq.used'));
      if (result.finishReason === 'length') endings.unshift(t(locale, 'reply.cut_at_limit'));
      if (!streamer.text) endings.unshift(t(locale, 'reply.empty'));
    } catch (err) {
      failure = err;
    }

    let status: TurnStatus = 'complete';
    let errorCode: string | undefined;
    let errorLine: string | undefined;
    let refused: Refusal | undefined;
    if (failure) {
      const view = describeFailure(
        failure,
        { ...active, aborted: active.controller.signal.aborted },
        locale,
        log,
      );
      ({ status, errorCode, errorLine, refused } = view);
      endings.unshift(view.errorLine);
    }
    const ending = endings.join('\n');
    await streamer.finish((ending && surface.spellCommands?.(ending)) || ending || undefined);
    this.active.delete(active);
    this.inflight.done(message.id);
    // What DashScope bills, also for stopped and failed answers (estimated when no usage chunk came).
    const usage = billed.usage;
    const cost = usage ? costOf(usage, config.models[model]) : 0;
    metrics?.observeAnswer({
      platform: message.conversation.platform,
      model,
      receivedAt: message.receivedAt,
      firstVisibleAt: streamer.firstVisibleAt,
      now: this.now(),
      errorCode,
      usage,
      cost,
    });
    const text = streamer.text;
    if (usage) {
      await this.usage
        .record(scopesFor(message.conversation, message.author.id), usage, cost)
        .catch((err: unknown) => log.error({ err }, 'could not record usage'));
    }
    // A moderation refusal is stored even without text: its mark keeps the refused exchange out of prompts.
    if (text || status !== 'error' || refused) {
      const answerTurn: Turn = {
        role: 'assistant',
        text,
        at: this.now(),
        model,
        status,
        ...(usage ? { usage } : {}),
        ...(refused ? { refused } : {}),
      };
      await this.history
        .append(key, answerTurn)
        .catch((err: unknown) => log.error({ err }, 'could not store the answer'));
    }
    log.info(
      {
        model,
        status,
        errorCode,
        ms: this.now() - startedAt,
        chars: text.length,
        edits: streamer.edits,
        posts: streamer.posts,
        usage,
      },
      'answer finished',
    );
    if (status === 'error' || status === 'interrupted')
      return { status: 'error', text, model, errorCode: errorCode ?? 'internal', errorLine: errorLine ?? '' };
    if (status === 'stopped') return { status: 'stopped', text, model };

    return { status: 'answered', text, model };
  }

  runCommand(inv: CommandInvocation): Promise<CommandResult> {
    const locale = toLocale(inv.locale ?? inv.author.locale, this.deps.config.locale);
    return this.registry.run(inv, { locale, isAdmin: this.isAdmin(inv.author), log: this.log });
  }

  autocomplete(
    command: string,
    option: string,
    partial: string,
    conversation: ConversationRef,
  ): Promise<string[]> {
    return this.registry.suggestions(command, option, partial, conversation);
  }

  stop(messageId: string, by: Author): boolean {
    for (const answer of this.active) {
      if (!answer.streamer.messages.some((m) => m.id === messageId)) continue;
      if (by.id !== answer.askerId && !this.isAdmin(by)) return false;
      answer.stoppedBy = by.name;
      answer.controller.abort();
      return true;
    }
    return false;
  }

  isAdmin(author: Author): boolean {
    return author.isAdmin === true || this.deps.config.guards.admins.includes(author.id);
  }

  /**
   * After a crash: every answer the previous run of this instance was streaming gets its last message
   * edited to end with an "interrupted" line, and the partial answer is stored as interrupted. The
   * user's turn was stored before the model was called, so it is already in history.
   */
  recoverInterrupted(editors: MessageEditor[]): Promise<number> {
    return repairInterrupted({
      tracker: this.inflight,
      editors,
      history: this.history,
      config: this.deps.config,
      log: this.log,
      now: this.now,
      inTurn: (key, task) => this.queue.run(key, task),
    });
  }

  /**
   * Shutdown: waits up to `graceMs` for answers in flight to finish, then cuts the rest short with a
   * "restarting" line (their partial text is kept and stored). Resolves when every answer has ended.
   */
  async drain(graceMs: number): Promise<void> {
    this.closing = true;
    const deadline = Date.now() + graceMs;
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const answer of this.active) {
      answer.restarting = true;
      answer.controller.abort();
    }
    await this.queue.idle();
    // The last in-flight write (an answer that just ended) lands before the store closes: a clean stop
    // leaves nothing for the next start to "repair".
    await this.inflight.flush();
  }
}
