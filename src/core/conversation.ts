import { type Locale, t, toLocale } from '../i18n.ts';
import type { Logger } from '../log.ts';
import { type Coordinator, LocalCoordinator } from '../store/coordination.ts';
import { StoreError } from '../store/index.ts';
import { KeyedQueue } from '../util/keyed-queue.ts';
import type { ActiveAnswer, AnswerDeps } from './answer-parts.ts';
import { channelMode } from './commands/channel-command.ts';
import { coreCommands } from './commands/core-commands.ts';
import { CommandRegistry, type CommandSpec, parseCommandText } from './commands/registry.ts';
import { workspaceKey } from './commands/settings-commands.ts';
import { type CommandSpeller, CommandSpelling } from './commands/spelling.ts';
import type { ConversationDeps } from './conversation-deps.ts';
import { MessageBatcher } from './debounce.ts';
import { DocumentStore } from './documents.ts';
import { FeedbackService } from './feedback.ts';
import { commandAsMessage, type Guard, guardRefusal, METERING_GUARDS, standardGuards } from './guards.ts';
import { HistoryStore } from './history.ts';
import { InflightTracker, type MessageEditor, repairInterrupted } from './inflight.ts';
import { answerMessage, type MessagePhaseDeps } from './message-phases.ts';
import { EditPacer } from './pacer.ts';
import { systemClock } from './ports.ts';
import { UserIndexStore } from './privacy.ts';
import { TokenCalibrator } from './prompt.ts';
import { postPrivately, refuse } from './replies.ts';
import type { ChatService, TurnOutcome } from './service.ts';
import { type ConversationSettings, SettingsStore } from './settings.ts';
import { ConversationTurns, noTurnLine } from './turns.ts';
import {
  type Author,
  type CommandInvocation,
  type CommandResult,
  type ConversationRef,
  conversationKey,
  type IncomingMessage,
  type ReplySurface,
} from './types.ts';
import { dailyQuota, UsageStore } from './usage.ts';

/** Slash commands without a platform id have nothing to dedupe by. */
const NO_DEDUPE: ReadonlySet<string> = new Set(['dedupe']);

const storeDown = async (err: Error): Promise<never> => {
  throw new StoreError(`could not take a conversation turn: ${err.message}`, { cause: err });
};

/** The one path every message takes: guards → question stored → the asker's lane → model → streamed reply. */
export class ConversationService implements ChatService {
  readonly history: HistoryStore;
  readonly settings: SettingsStore;
  readonly usage: UsageStore;
  /** How each platform writes command references in the bot's lines (adapters register theirs). */
  readonly spelling = new CommandSpelling();
  readonly registry = new CommandRegistry(this.spelling);
  readonly queue = new KeyedQueue();
  /** Answers, one lane per (conversation, asker), outside the conversation's turn. */
  readonly lanes = new KeyedQueue();
  readonly calibrator = new TokenCalibrator();
  readonly coordinator: Coordinator;
  readonly inflight: InflightTracker;
  readonly users: UserIndexStore;
  readonly documents: DocumentStore | undefined;
  readonly feedback: FeedbackService;
  private readonly deps: ConversationDeps;
  private readonly log: Logger;
  private readonly pacer: EditPacer;
  private readonly guards: Guard[];
  private readonly phases: MessagePhaseDeps;
  private readonly turns: ConversationTurns;
  private readonly active = new Set<ActiveAnswer>();
  private readonly batcher: MessageBatcher;
  private readonly now: () => number;
  private closing = false;

  constructor(deps: ConversationDeps) {
    this.deps = deps;
    this.log = deps.log.child({ component: 'conversation' });
    this.coordinator = deps.coordinator ?? new LocalCoordinator(deps.store);
    const coord = this.coordinator;
    this.pacer =
      deps.pacer ?? new EditPacer((key, spec) => coord.limiter(`pace:${key}`, spec.points, spec.durationSec));
    const clock = deps.clock ?? systemClock;
    this.now = () => clock.now();
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
    this.documents = deps.files
      ? new DocumentStore({
          store,
          files: deps.files,
          retentionMs: config.history.retentionDays * 86_400_000,
          now: this.now,
          log: this.log,
        })
      : undefined;
    this.usage = new UsageStore(this.coordinator, this.now, config.usage.totalsRetentionDays * 86_400_000);
    const feedback = new FeedbackService({ ...deps, coordinator: coord, now: this.now });
    this.feedback = feedback;
    this.guards = [
      ...standardGuards(config.guards, coord, this.spelling),
      dailyQuota(this.usage, config.usage),
    ];
    const specs = coreCommands({
      config,
      registry: this.registry,
      history: this.history,
      settings: this.settings,
      usage: this.usage,
      users: this.users,
      feedback,
      modelFor: (ref) => this.modelFor(ref),
      probeModel: config.qwen.verifyModelSwitch ? (m) => deps.qwen.probe(m) : undefined,
      extra: deps.extraCommands,
      documents: this.documents,
    });
    for (const spec of specs) this.registry.add(spec);
    this.batcher = new MessageBatcher(config.triggers.debounceMs);
    this.turns = new ConversationTurns(this.queue, this.coordinator, config.store.turnTimeoutSec * 1000);
    // Read at scrape time: set around the await above, it counted the message's own finished task.
    deps.metrics?.watchQueue(() => this.queue.size + this.lanes.size);
    const answerDeps: AnswerDeps = {
      config,
      qwen: deps.qwen,
      log: this.log,
      pacer: this.pacer,
      now: this.now,
      calibrator: this.calibrator,
      history: this.history,
      settings: this.settings,
      users: this.users,
      inflight: this.inflight,
      usage: this.usage,
      metrics: deps.metrics,
      toolbox: deps.toolbox,
      documents: this.documents,
      modelFor: (ref, resolved, workspace) => this.modelFor(ref, resolved, workspace),
      active: this.active,
      spelling: this.spelling,
      inTurn: (key, task) => this.turns.run(key, (turn) => task(turn?.signal), storeDown),
    };
    this.phases = {
      turns: this.turns,
      lanes: this.lanes,
      answerDeps,
      admit: (message, surface, locale) => this.admit(message, surface, locale),
      batcher: this.batcher,
      voice: { config: config.voice, ...(deps.transcriber ? { transcriber: deps.transcriber } : {}) },
      noTurn: (err, surface, locale, log) => {
        const no = noTurnLine(err);
        log[no.level]({ err }, no.log);
        return refuse(surface, no.reason, t(locale, no.line), log);
      },
    };
  }

  /**
   * The conversation's own choice (a thread inherits its channel's), else the workspace default, else
   * the configured default.
   */
  async modelFor(
    ref: ConversationRef,
    resolved?: ConversationSettings,
    workspaceSettings?: ConversationSettings,
  ): Promise<string> {
    const models = this.deps.config.models;
    const mine = (resolved ?? (await this.settings.resolve(ref))).model;
    if (mine && models[mine]) return mine;
    const workspace = (workspaceSettings ?? (await this.settings.get(workspaceKey(ref)))).model;
    if (workspace && models[workspace]) return workspace;
    return this.deps.config.qwen.defaultModel;
  }

  async answersEveryMessage(ref: ConversationRef): Promise<boolean> {
    return !ref.isDM && (await channelMode(this.settings, ref)) === 'all';
  }

  commands(): CommandSpec[] {
    return this.registry.list();
  }

  spellCommandsAs(platform: string, speller: CommandSpeller): void {
    this.spelling.use(platform, speller);
  }

  /** Answers currently streaming. */
  get activeCount(): number {
    return this.active.size;
  }

  async handleMessage(message: IncomingMessage, surface: ReplySurface): Promise<TurnOutcome> {
    // The turn is taken before any await, so one conversation's messages keep their arrival order.
    const locale = toLocale(message.author.locale ?? surface.locale, this.deps.config.locale);
    const typed = this.typedCommand(message, locale);
    const pending = typed
      ? this.typed(typed, message, surface, locale)
      : answerMessage(this.phases, message, surface, locale, this.messageLog(message));
    const outcome = await pending;
    this.deps.metrics?.messages.inc({ platform: message.conversation.platform, outcome: outcome.status });
    return outcome;
  }

  /** A known command typed as a message (`@bot /reset`); anything else is a question for the model. */
  private typedCommand(message: IncomingMessage, locale: Locale): CommandInvocation | undefined {
    if (message.attachments.length > 0) return undefined;
    const command = parseCommandText(message.text);
    if (!command || !this.registry.get(command.name)) return undefined;
    return { ...command, conversation: message.conversation, author: message.author, locale };
  }

  private async typed(
    inv: CommandInvocation,
    message: IncomingMessage,
    surface: ReplySurface,
    locale: Locale,
  ): Promise<TurnOutcome> {
    const log = this.messageLog(message);
    const ran = await this.command(inv, message, locale);
    if (!('result' in ran)) {
      if (ran.line) return refuse(surface, ran.reason, ran.line, log);
      return { status: 'ignored', reason: ran.reason };
    }
    const { result } = ran;
    const spell = this.spelling.of(message.conversation.platform);
    const posted =
      result.private && result.ephemeral && !message.conversation.isDM
        ? postPrivately(surface, result.text, t(locale, 'cmd.private', { name: inv.name }, spell), log)
        : surface.post(result.text);
    await Promise.resolve(posted).catch((err: unknown) => log.warn({ err }, 'command reply failed'));
    return { status: 'command', result };
  }

  /**
   * The one path of every command, slash or typed: checked and parsed at once; then, in the
   * conversation's turn unless it only reads (or takes its own turns), the guards and the handler.
   */
  private command(
    inv: CommandInvocation,
    probe: IncomingMessage,
    locale: Locale,
    skip?: ReadonlySet<string>,
  ): Promise<{ result: CommandResult } | { reason: string; line?: string }> {
    const log = this.log.child({ conversation: conversationKey(inv.conversation), command: inv.name });
    const prepared = this.registry.prepare(inv, { locale, isAdmin: this.isAdmin(inv.author), log });
    const skipped = new Set([...(skip ?? []), ...(prepared.readOnly ? METERING_GUARDS : [])]);
    const work = async () => {
      if (this.closing) {
        if (!probe.addressed || probe.author.isBot) return { reason: 'shutting down' };
        return { reason: 'shutting down', line: t(locale, 'status.shutting_down') };
      }
      const refusal = await guardRefusal(this.guards, probe, locale, log, skipped);
      if (refusal) return refusal;
      return { result: await prepared.run((key, task) => this.turns.run(key, task, storeDown)) };
    };
    if (prepared.readOnly || prepared.ownTurns) return work();
    return this.turns.run(conversationKey(inv.conversation), work, async (err) => {
      const no = noTurnLine(err);
      log[no.level]({ err }, no.log);
      return { reason: no.reason, line: t(locale, no.line) };
    });
  }

  /** In the conversation's turn: undefined when the message is to be answered, else its outcome. */
  private async admit(
    message: IncomingMessage,
    surface: ReplySurface,
    locale: Locale,
  ): Promise<TurnOutcome | undefined> {
    const log = this.messageLog(message);
    if (this.closing) {
      if (!message.addressed || message.author.isBot) return { status: 'ignored', reason: 'shutting down' };
      return refuse(surface, 'shutting down', t(locale, 'status.shutting_down'), log);
    }
    const refusal = await guardRefusal(this.guards, message, locale, log);
    if (refusal) {
      if (refusal.line) return refuse(surface, refusal.reason, refusal.line, log);
      return { status: 'ignored', reason: refusal.reason };
    }
    return undefined;
  }

  private messageLog(message: IncomingMessage): Logger {
    return this.log.child({ conversation: conversationKey(message.conversation), messageId: message.id });
  }

  /** A slash command: the same guards and conversation turn as a typed one; always a reply to show. */
  async runCommand(inv: CommandInvocation): Promise<CommandResult> {
    const locale = toLocale(inv.locale ?? inv.author.locale, this.deps.config.locale);
    const probe = commandAsMessage(inv, this.now());
    const count = (outcome: 'ok' | 'refused' | 'error') =>
      this.deps.metrics?.slashCommands.inc({
        platform: inv.conversation.platform,
        command: this.registry.get(inv.name) ? inv.name : 'unknown',
        outcome,
      });
    const ran = await this.command(inv, probe, locale, inv.id ? undefined : NO_DEDUPE).catch(
      (err: unknown) => {
        count('error');
        throw err;
      },
    );
    count('result' in ran ? 'ok' : 'refused');
    if ('result' in ran) return ran.result;
    // A message refused in silence (access lists) still needs a line here: the platform waits for one.
    return { text: ran.line ?? t(locale, 'guard.denied'), ephemeral: true };
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
      const streamsThere = answer.streamer.messages.some((m) => m.id === messageId);
      if (!streamsThere && answer.questionId !== messageId) continue;
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
      // The repair writes history: it takes the conversation's turn like everything else that does.
      inTurn: (key, task) => this.turns.run(key, task, (err) => Promise.reject(err)),
    });
  }

  /**
   * Shutdown: waits up to `graceMs` for answers in flight to finish, then cuts the rest short with a
   * "restarting" line (their partial text is kept and stored). Resolves when every answer has ended.
   */
  async drain(graceMs: number): Promise<void> {
    this.closing = true;
    this.batcher.closeAll();
    const deadline = Date.now() + graceMs;
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const answer of this.active) {
      answer.restarting = true;
      answer.controller.abort();
    }
    await this.queue.idle();
    await this.lanes.idle();
    // The last in-flight write (an answer that just ended) lands before the store closes: a clean stop
    // leaves nothing for the next start to "repair".
    await this.inflight.flush();
  }
}
