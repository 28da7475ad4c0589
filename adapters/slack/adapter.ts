/**
 * The Slack adapter as one object: a Bolt app (Socket Mode, or HTTP mode mounted on main's server)
 * whose mentions, DMs and followed thread replies go to the core in arrival order, and whose `/qwen`
 * command runs the core's commands. `startSlack` (index.ts) creates one and starts it.
 */
import type { IncomingMessage as HttpRequest, ServerResponse } from 'node:http';
import { App, type Logger as BoltLogger, HTTPReceiver, SocketModeReceiver, webApi } from '@slack/bolt';
import type { Config } from '../../src/config/schema.ts';
import { parseCommandText } from '../../src/core/commands/registry.ts';
import type { MessageEditor } from '../../src/core/inflight.ts';
import type { TurnOutcome } from '../../src/core/service.ts';
import { type ConversationRef, conversationKey, type ReplySurface } from '../../src/core/types.ts';
import { type Locale, t, toLocale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import { countRateLimit, type PlatformGlue, settleAnswer } from '../../src/platform-replies.ts';
import { KeyedQueue } from '../../src/util/keyed-queue.ts';
import { AssistantThreads, loadingMessages } from './assistant.ts';
import { type AuthInfo, authenticate, toBoltLogger, webClientOptions } from './bolt.ts';
import { SLASH_COMMAND } from './capabilities.ts';
import { runSlash, type SlashPayload, slackCommand } from './commands.ts';
import {
  conversationOf,
  isDirect,
  mentionsUser,
  readableText,
  type SlackMessageEvent,
  skipReason,
  ThreadTracker,
} from './events.ts';
import { listenForFeedback } from './feedback.ts';
import { type Trigger, toIncoming } from './incoming.ts';
import type { SlackHandle, StartSlackOptions } from './index.ts';
import { listenForShortcuts } from './shortcuts.ts';
import { connectSocketMode, SlackStartError, type SocketState } from './socket-link.ts';
import { listenForStop } from './stop.ts';
import { slackEditor, slackSurface } from './surface.ts';
import { UserDirectory } from './users.ts';

/** Bolt's default path for events, commands and interactivity in HTTP mode. */
export const SLACK_EVENTS_PATH = '/slack/events';

/** An answer the core has taken (its order is fixed), with where to post if it throws. */
interface Started {
  answer: Promise<TurnOutcome>;
  surface: ReplySurface;
  locale: Locale;
  question: string;
}

export class SlackAdapter implements SlackHandle {
  readonly name = 'slack';
  readonly mode: 'socket' | 'http';
  readonly team: { id: string; name: string };
  readonly botUserId: string;
  readonly editor: MessageEditor;
  handleHttp?: (req: HttpRequest, res: ServerResponse) => boolean;
  private readonly options: StartSlackOptions;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly glue: PlatformGlue;
  private readonly app: App;
  private readonly socketReceiver: SocketModeReceiver | undefined;
  private readonly streamClient: webApi.WebClient;
  private readonly users: UserDirectory;
  private readonly threads: ThreadTracker;
  private readonly assistant: AssistantThreads;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly arrival = new KeyedQueue();
  private readonly link: SocketState = { ready: false, stopped: false, problem: undefined };
  private unwatch: () => void = () => undefined;
  private commandsRegistered = false;

  /** Checks the tokens and who they belong to (`auth.test`); throws a SlackStartError with one line. */
  static async create(options: StartSlackOptions): Promise<SlackAdapter> {
    const log = options.log.child({ component: 'slack' });
    const { botToken, appToken, signingSecret, apiUrl } = options.config.slack;
    if (!botToken)
      throw new SlackStartError('SLACK_BOT_TOKEN is not set (the xoxb-… token of the installed app)');
    if (!appToken && !signingSecret) {
      throw new SlackStartError(
        'SLACK_SIGNING_SECRET is required for HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
      );
    }
    const boltLogger = toBoltLogger(log.child({ component: 'slack-sdk' }));
    const client = new webApi.WebClient(botToken, webClientOptions(boltLogger, apiUrl));
    const auth = await authenticate(client, apiUrl);
    const mode = appToken ? 'socket' : 'http';
    log.info(
      { team: auth.team, teamId: auth.teamId, bot: auth.user, botUserId: auth.userId, mode },
      `connected to Slack workspace "${auth.team}" as @${auth.user}`,
    );
    return new SlackAdapter(options, auth, log, boltLogger);
  }

  private constructor(options: StartSlackOptions, auth: AuthInfo, log: Logger, boltLogger: BoltLogger) {
    this.options = options;
    this.config = options.config;
    this.log = log;
    this.glue = { platform: 'slack', service: options.service, log, metrics: options.metrics };
    this.team = { id: auth.teamId, name: auth.team };
    this.botUserId = auth.userId;
    const { botToken = '', appToken, signingSecret, apiUrl } = this.config.slack;
    const clientOptions = webClientOptions(boltLogger, apiUrl);
    this.socketReceiver = appToken
      ? new SocketModeReceiver({ appToken, logger: boltLogger, installerOptions: { clientOptions } })
      : undefined;
    const httpReceiver = appToken
      ? undefined
      : new HTTPReceiver({
          signingSecret: signingSecret ?? '',
          endpoints: SLACK_EVENTS_PATH,
          logger: boltLogger,
        });
    this.mode = this.socketReceiver ? 'socket' : 'http';
    this.app = new App({
      token: botToken,
      botId: auth.botId,
      botUserId: auth.userId,
      tokenVerificationEnabled: false,
      clientOptions,
      logger: boltLogger,
      ...(this.socketReceiver
        ? { receiver: this.socketReceiver, socketMode: true }
        : { receiver: httpReceiver }),
    });
    this.streamClient = new webApi.WebClient(botToken, { ...clientOptions, rejectRateLimitedCalls: true });
    this.users = new UserDirectory(this.app.client, this.config.guards.admins, log);
    this.threads = new ThreadTracker(options.store, this.config.history.retentionDays * 86_400_000);
    this.editor = slackEditor(this.app.client, log);
    this.assistant = new AssistantThreads({
      client: this.app.client,
      store: options.store,
      config: this.config,
      users: this.users,
      log,
      teamId: auth.teamId,
      faqQuestions: options.faqQuestions,
      writeTitle: options.writeTitle,
    });
    if (httpReceiver) this.handleHttp = (req, res) => this.onHttp(httpReceiver, req, res);
    this.listen();
  }

  /** Socket Mode: resolves once connected (start-up waits). HTTP mode: ready at once. */
  async start(): Promise<this> {
    await this.registerCommands();
    if (!this.socketReceiver) {
      this.link.ready = true;
      return this;
    }
    const { signal, report } = this.options;
    const { app, socketReceiver: receiver, link: state, log } = this;
    this.unwatch = await connectSocketMode({ app, receiver, state, log, signal, report });
    return this;
  }

  get ready(): boolean {
    return this.link.ready;
  }

  isReady(): boolean {
    return this.link.ready;
  }

  problem(): string | undefined {
    return this.link.problem;
  }

  /**
   * Slack's `/qwen` is declared in the app manifest (capabilities.ts); what registers here is its
   * listener, which maps `/qwen <command>` onto the core's commands, and how the core is to write
   * command references in Slack conversations (`/qwen reset`). Once.
   */
  async registerCommands(): Promise<void> {
    if (this.commandsRegistered) return;
    this.commandsRegistered = true;
    this.options.service.spellCommandsAs('slack', slackCommand);
    this.app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
      await ack();
      this.track(
        (async () => {
          const author = await this.users.get(command.user_id);
          const reply = await runSlash(command as SlashPayload, author, this.glue, this.config.locale);
          await respond({ ...reply, replace_original: false });
        })(),
      );
    });
  }

  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  async pause(): Promise<void> {
    if (this.link.stopped) return;
    this.link.stopped = true;
    this.link.ready = false;
    this.unwatch();
    if (this.socketReceiver)
      await this.app.stop().catch((err: unknown) => this.log.warn({ err }, 'socket mode stop failed'));
  }

  async stop(): Promise<void> {
    await this.pause();
    await this.idle();
  }

  private onHttp(receiver: HTTPReceiver, req: HttpRequest, res: ServerResponse): boolean {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== SLACK_EVENTS_PATH || req.method !== 'POST') return false;
    if (this.link.stopped) {
      res.writeHead(503).end();
      return true;
    }
    receiver.requestListener(req, res);
    return true;
  }

  /**
   * Events are acked by Bolt before listeners run; answering happens in the background. A retry
   * (context.retryNum) is handled like any delivery: the core's dedupe drops what was already seen.
   */
  private listen(): void {
    for (const kind of ['mention', 'message'] as const) {
      this.app.event(kind === 'mention' ? 'app_mention' : 'message', async ({ event, body, context }) => {
        if (context.retryNum)
          this.log.debug({ retryNum: context.retryNum, reason: context.retryReason }, 'event retry');
        const teamId = body.team_id ?? this.team.id;
        this.track(this.deliver(event as unknown as SlackMessageEvent, kind, teamId, body.event_id));
      });
    }
    listenForFeedback({
      app: this.app,
      service: this.options.service,
      users: this.users,
      log: this.log,
      teamId: this.team.id,
      fallbackLocale: this.config.locale,
      track: (work) => this.track(work),
    });
    this.assistant.listen(this.app, (work) => this.track(work));
    listenForStop(this.app, {
      client: this.app.client,
      service: this.options.service,
      users: this.users,
      log: this.log,
      fallbackLocale: this.config.locale,
      track: (work) => this.track(work),
    });
    const { actions } = this.options;
    if (actions) {
      const track = (work: Promise<unknown>) => this.track(work);
      const readClient = this.streamClient;
      listenForShortcuts(this.app, {
        actions,
        readClient,
        users: this.users,
        teamId: this.team.id,
        log: this.log,
        track,
      });
    }
    // The web client waits out 429s (Retry-After) itself; operators still want to see them.
    this.app.client.on(
      webApi.WebClientEvent.RATE_LIMITED,
      (retryAfterSec: number, request: { url?: string }) =>
        countRateLimit(this.glue, { retryAfterSec, method: request?.url }),
    );
    this.app.error(async (err) => {
      this.log.error({ err }, 'slack app error');
    });
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch((err: unknown) => this.log.error({ err }, 'slack event handling failed'));
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async deliver(
    event: SlackMessageEvent,
    kind: 'mention' | 'message',
    teamId: string,
    eventId?: string,
  ): Promise<void> {
    const skip = skipReason(event, this.botUserId);
    if (skip) return this.log.debug({ skip, ts: event.ts }, 'event skipped');
    const conversation = conversationOf(event, teamId);
    let started: Started | undefined;
    // Look-ups (thread membership, users.info) take varying time: do them in arrival order per
    // conversation, so the core's per-conversation queue receives messages in the order Slack sent them.
    await this.arrival.run(conversationKey(conversation), async () => {
      const trigger = await this.follows(event, kind, conversation);
      if (!trigger) return;
      started = await this.begin(event, conversation, teamId, eventId, trigger);
    });
    if (!started) return;
    const { answer, surface, locale, question } = started;
    const outcome = await settleAnswer(this.glue, answer, surface, locale, {
      ts: event.ts,
      channel: event.channel,
    });
    if (outcome?.status === 'answered')
      await this.assistant
        .titleAfterAnswer(conversation, question, outcome.text, locale)
        .catch((err: unknown) => this.log.warn({ err }, 'assistant thread title not set'));
  }

  /**
   * Whether the bot answers this message, and how: a mention in a channel also makes the bot follow
   * the thread (and, the first time in a thread of other people, quotes its parent); a message that
   * is not for the bot is answered when its channel (or thread) is in mode all.
   */
  private async follows(
    event: SlackMessageEvent,
    kind: 'mention' | 'message',
    conversation: ConversationRef,
  ): Promise<Trigger | undefined> {
    if (isDirect(event)) return {};
    if (kind === 'mention') {
      const inThread = event.thread_ts !== undefined && event.thread_ts !== event.ts;
      // A command typed in a mention (`@bot /channel mode mentions`) is no conversation to follow.
      if (parseCommandText(readableText(event.text ?? '', this.botUserId, new Map()))) return {};
      const joins = inThread && !(await this.threads.has(conversation).catch(() => true));
      // Losing this only costs a mention-free follow-up later; the mention itself is still answered.
      await this.threads
        .mark(conversation)
        .catch((err: unknown) => this.log.warn({ err }, 'could not record the thread'));
      return { quoteParent: joins };
    }
    // A mention arrives as app_mention too, and is answered as that.
    if (mentionsUser(event.text, this.botUserId)) return undefined;
    if (event.thread_ts && this.config.slack.followThreads) {
      const followed = await this.threads.has(conversation).catch((err: unknown) => {
        this.log.warn({ err }, 'could not check whether the bot follows this thread; not answering');
        return false;
      });
      if (followed) return {};
    }
    if (!event.text?.trim() && !event.files?.length) return undefined;
    const everyMessage = await this.options.service
      .answersEveryMessage(conversation)
      .catch((err: unknown) => {
        this.log.warn({ err }, 'could not read the channel mode; not answering');
        return false;
      });
    return everyMessage ? { byChannelMode: true } : undefined;
  }

  /** Hands the message to the core; its order is fixed once this returns (the core queues at once). */
  private async begin(
    event: SlackMessageEvent,
    conversation: ConversationRef,
    teamId: string,
    eventId: string | undefined,
    trigger: Trigger,
  ): Promise<Started> {
    const dm = isDirect(event);
    const message = await toIncoming(
      {
        config: this.config,
        users: this.users,
        botUserId: this.botUserId,
        client: this.streamClient,
        assistant: this.assistant,
        log: this.log,
      },
      { event, conversation, eventId, trigger },
    );
    const locale = toLocale(message.author.locale, this.config.locale);
    const surface = slackSurface({
      client: this.app.client,
      streamClient: this.streamClient,
      teamId,
      channel: event.channel,
      threadTs: dm ? event.thread_ts : conversation.thread,
      userId: message.author.id,
      ...(event.thread_ts ? { writtenInThread: event.thread_ts } : {}),
      isDM: dm,
      locale,
      loadingMessages: loadingMessages(locale),
      stop: { value: message.id, label: t(locale, 'stop.button') },
      log: this.log,
      pacing: this.options.pacing,
      keepTiers: this.options.config.slack.keepTiers,
    });
    return {
      answer: this.options.service.handleMessage(message, surface),
      surface,
      locale,
      question: message.text,
    };
  }
}
