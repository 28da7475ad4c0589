/**
 * The Slack adapter: a Bolt app that turns mentions, DMs and thread replies into `IncomingMessage`s,
 * answers on a `ReplySurface` in the thread, and maps `/qwen <command>` onto the core's commands.
 * Socket Mode when SLACK_APP_TOKEN is set; otherwise HTTP mode, mounted on main's HTTP server:
 *
 *   const slack = await startSlack({ config, service, log, store });   // throws SlackStartError
 *   http.createServer((req, res) => {
 *     if (slack.handleHttp?.(req, res)) return;   // POST /slack/events; reads the raw body itself
 *     // …health, metrics, 404
 *   });
 *   // shutdown: await slack.stop()  (disconnects Socket Mode, refuses new events, waits for answers)
 *
 * Do not parse the request body before `handleHttp`: the signature covers the raw bytes.
 */
import type { IncomingMessage as HttpRequest, ServerResponse } from 'node:http';
import {
  App,
  type Logger as BoltLogger,
  HTTPReceiver,
  LogLevel,
  SocketModeReceiver,
  webApi,
} from '@slack/bolt';
import type { Config } from '../../src/config/schema.ts';
import type { MessageEditor } from '../../src/core/inflight.ts';
import type { ChatService, TurnOutcome } from '../../src/core/service.ts';
import { type ConversationRef, conversationKey, type IncomingMessage } from '../../src/core/types.ts';
import { t, toLocale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import type { Store } from '../../src/store/index.ts';
import { KeyedQueue } from '../../src/util/keyed-queue.ts';
import { SLASH_COMMAND } from './capabilities.ts';
import { runSlash, type SlashPayload, slackSpelling } from './commands.ts';
import {
  conversationOf,
  isDirect,
  mentionedUsers,
  mentionsUser,
  messageId,
  readableText,
  type SlackMessageEvent,
  skipReason,
  ThreadTracker,
} from './events.ts';
import { slackAttachments } from './files.ts';
import { AUTH_ERRORS, connectSocketMode, SlackStartError, type SocketState } from './socket-link.ts';
import { slackEditor, slackSurface } from './surface.ts';
import { UserDirectory } from './users.ts';

export { SlackStartError } from './socket-link.ts';

/** Bolt's default path for events, commands and interactivity in HTTP mode. */
export const SLACK_EVENTS_PATH = '/slack/events';

export interface StartSlackOptions {
  config: Config;
  service: ChatService;
  log: Logger;
  store: Store;
  /** Aborted when start-up is given up: stop connecting Socket Mode. */
  signal?: AbortSignal;
  /** Why Socket Mode is not connected yet (HTTP status), while start-up waits for it. */
  report?: (problem: string) => void;
}

export interface SlackHandle {
  readonly mode: 'socket' | 'http';
  /** Connected (Socket Mode) or accepting requests (HTTP mode). */
  readonly ready: boolean;
  /** Why Socket Mode is not connected (e.g. "Socket Mode websocket refused: HTTP 503"), when known. */
  readonly problem: string | undefined;
  readonly team: { id: string; name: string };
  readonly botUserId: string;
  /**
   * HTTP mode only: give every request of the shared HTTP server to this first. It answers
   * `POST /slack/events` (signature checked, 401 when bad or stale) and returns true; for any other
   * request it returns false and leaves the response alone.
   */
  handleHttp?: (req: HttpRequest, res: ServerResponse) => boolean;
  /** Edits earlier answers by ts, for the core's crash repair (`service.recoverInterrupted`). */
  readonly editor: MessageEditor;
  /** Resolves once every message received so far has been answered (tests, graceful shutdown). */
  idle(): Promise<void>;
  /** Stops taking new events (Socket Mode disconnects, HTTP answers 503); answers in flight go on. */
  pause(): Promise<void>;
  /** Pauses, then waits for the answers in flight. */
  stop(): Promise<void>;
}

export async function startSlack(options: StartSlackOptions): Promise<SlackHandle> {
  const { config, service, store } = options;
  const log = options.log.child({ component: 'slack' });
  const { botToken, appToken, signingSecret, apiUrl } = config.slack;
  if (!botToken)
    throw new SlackStartError('SLACK_BOT_TOKEN is not set (the xoxb-… token of the installed app)');
  if (!appToken && !signingSecret) {
    throw new SlackStartError(
      'SLACK_SIGNING_SECRET is required for HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  const boltLogger = toBoltLogger(log.child({ component: 'slack-sdk' }));
  const clientOptions: webApi.WebClientOptions = {
    logger: boltLogger,
    // Network failures are retried briefly; 429s wait out Retry-After inside the client.
    retryConfig: { retries: 3, factor: 2, minTimeout: 250, maxTimeout: 4000, randomize: true },
    ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
  };

  const auth = await authenticate(new webApi.WebClient(botToken, { ...clientOptions }), apiUrl);
  const team = { id: auth.teamId, name: auth.team };
  log.info(
    {
      team: auth.team,
      teamId: auth.teamId,
      bot: auth.user,
      botUserId: auth.userId,
      mode: appToken ? 'socket' : 'http',
    },
    `connected to Slack workspace "${auth.team}" as @${auth.user}`,
  );

  const httpReceiver = appToken
    ? undefined
    : new HTTPReceiver({
        signingSecret: signingSecret ?? '',
        endpoints: SLACK_EVENTS_PATH,
        logger: boltLogger,
      });
  const socketReceiver = appToken
    ? new SocketModeReceiver({
        appToken,
        logger: boltLogger,
        installerOptions: { clientOptions: { ...clientOptions } },
      })
    : undefined;
  const app = new App({
    token: botToken,
    botId: auth.botId,
    botUserId: auth.userId,
    tokenVerificationEnabled: false,
    clientOptions,
    logger: boltLogger,
    ...(socketReceiver ? { receiver: socketReceiver, socketMode: true } : { receiver: httpReceiver }),
  });
  const streamClient = new webApi.WebClient(botToken, { ...clientOptions, rejectRateLimitedCalls: true });
  const users = new UserDirectory(app.client, config.guards.admins, log);
  const threads = new ThreadTracker(store, config.history.retentionDays * 86_400_000);
  const inflight = new Set<Promise<unknown>>();
  const arrival = new KeyedQueue();
  const link: SocketState = { ready: false, stopped: false, problem: undefined };

  const track = (work: Promise<unknown>) => {
    const p = work.catch((err: unknown) => log.error({ err }, 'slack event handling failed'));
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  async function deliver(
    event: SlackMessageEvent,
    kind: 'mention' | 'message',
    teamId: string,
    eventId?: string,
  ) {
    const skip = skipReason(event, auth.userId);
    if (skip) return log.debug({ skip, ts: event.ts }, 'event skipped');
    const dm = isDirect(event);
    const conversation = conversationOf(event, teamId);
    let answer: Promise<TurnOutcome> | undefined;
    let surface: ReturnType<typeof slackSurface> | undefined;
    let locale = config.locale;
    // Look-ups (thread membership, users.info) take varying time: do them in arrival order per
    // conversation, so the core's per-conversation queue receives messages in the order Slack sent them.
    await arrival.run(conversationKey(conversation), async () => {
      if (kind === 'message' && !dm) {
        // Channel messages count only inside a thread the bot is part of; mentions come as app_mention.
        if (!event.thread_ts || mentionsUser(event.text, auth.userId) || !config.slack.followThreads) return;
        const followed = await threads.has(conversation).catch((err: unknown) => {
          log.warn({ err }, 'could not check whether the bot follows this thread; not answering');
          return false;
        });
        if (!followed) return;
      }
      if (kind === 'mention' && !dm) {
        // Losing this only costs a mention-free follow-up later; the mention itself is still answered.
        await threads
          .mark(conversation)
          .catch((err: unknown) => log.warn({ err }, 'could not record the thread'));
      }
      const message = await toIncoming(event, conversation, eventId);
      locale = toLocale(message.author.locale, config.locale);
      surface = slackSurface({
        client: app.client,
        streamClient,
        teamId,
        channel: event.channel,
        threadTs: dm ? event.thread_ts : conversation.thread,
        userId: message.author.id,
        ...(event.thread_ts ? { writtenInThread: event.thread_ts } : {}),
        isDM: dm,
        locale,
        log,
        keepTiers: config.slack.keepTiers,
      });
      surface.spellCommands = (line) => slackSpelling(line, service.commands());
      // The core queues the message before its first await: order is fixed once this returns.
      answer = service.handleMessage(message, surface);
    });
    if (!answer) return;
    try {
      const outcome = await answer;
      log.debug({ ts: event.ts, channel: event.channel, status: outcome.status }, 'slack message handled');
    } catch (err) {
      // The core should end every reply itself; if it threw, still tell the person rather than stay silent.
      log.error({ err, ts: event.ts, channel: event.channel }, 'chat service failed');
      await surface
        ?.post(t(locale, 'error.internal'))
        .catch((postErr: unknown) => log.warn({ err: postErr }, 'could not post the error line'));
    }
  }

  async function toIncoming(
    event: SlackMessageEvent,
    conversation: ConversationRef,
    eventId: string | undefined,
  ): Promise<IncomingMessage> {
    const author = await users.get(event.user ?? '');
    const raw = event.text ?? '';
    const names = await users.names(mentionedUsers(raw).filter((id) => id !== auth.userId));
    return {
      id: messageId(event),
      ...(eventId ? { eventId } : {}),
      conversation,
      author,
      text: readableText(raw, auth.userId, names),
      attachments: slackAttachments(
        event.files,
        botToken ?? '',
        apiUrl,
        config.attachments.downloadTimeoutMs,
      ),
      addressed: true,
      botUserId: auth.userId,
      receivedAt: Date.now(),
    };
  }

  // Events are acked by Bolt before listeners run; answering happens in the background. A retry
  // (context.retryNum) is handled like any delivery: the core's dedupe drops what was already seen.
  for (const kind of ['mention', 'message'] as const) {
    app.event(kind === 'mention' ? 'app_mention' : 'message', async ({ event, body, context }) => {
      if (context.retryNum)
        log.debug({ retryNum: context.retryNum, reason: context.retryReason }, 'event retry');
      track(deliver(event as unknown as SlackMessageEvent, kind, body.team_id ?? team.id, body.event_id));
    });
  }
  app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
    await ack();
    track(
      (async () => {
        const author = await users.get(command.user_id);
        const reply = await runSlash(command as SlashPayload, author, service, config.locale, log);
        await respond({ ...reply, replace_original: false });
      })(),
    );
  });
  // The web client waits out 429s (Retry-After) itself; operators still want to see them.
  app.client.on(webApi.WebClientEvent.RATE_LIMITED, (retryAfterSec: number, request: { url?: string }) =>
    log.warn({ retryAfterSec, method: request?.url }, 'slack rate limited'),
  );
  app.error(async (err) => {
    log.error({ err }, 'slack app error');
  });

  let unwatch: () => void = () => undefined;
  if (socketReceiver) {
    unwatch = await connectSocketMode({
      app,
      receiver: socketReceiver,
      state: link,
      log,
      signal: options.signal,
      report: options.report,
    });
  } else {
    link.ready = true;
  }

  const handle: SlackHandle = {
    mode: socketReceiver ? 'socket' : 'http',
    get ready() {
      return link.ready;
    },
    get problem() {
      return link.problem;
    },
    team,
    botUserId: auth.userId,
    editor: slackEditor(app.client, log),
    async idle() {
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
    async pause() {
      if (link.stopped) return;
      link.stopped = true;
      link.ready = false;
      unwatch();
      if (socketReceiver)
        await app.stop().catch((err: unknown) => log.warn({ err }, 'socket mode stop failed'));
    },
    async stop() {
      await handle.pause();
      await handle.idle();
    },
  };
  if (httpReceiver) {
    handle.handleHttp = (req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path !== SLACK_EVENTS_PATH || req.method !== 'POST') return false;
      if (link.stopped) {
        res.writeHead(503).end();
        return true;
      }
      httpReceiver.requestListener(req, res);
      return true;
    };
  }
  return handle;
}

interface AuthInfo {
  teamId: string;
  team: string;
  userId: string;
  user: string;
  botId?: string;
}

/** `auth.test` with the bot token: who we are, or one clear line when the token or URL is wrong. */
async function authenticate(client: webApi.WebClient, apiUrl: string | undefined): Promise<AuthInfo> {
  try {
    const res = await client.auth.test();
    if (!res.team_id || !res.user_id)
      throw new SlackStartError('auth.test did not return the workspace and bot user');
    return {
      teamId: res.team_id,
      team: res.team ?? res.team_id,
      userId: res.user_id,
      user: res.user ?? res.user_id,
      ...(res.bot_id ? { botId: res.bot_id } : {}),
    };
  } catch (err) {
    if (err instanceof SlackStartError) throw err;
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code && AUTH_ERRORS.has(code)) {
      throw new SlackStartError(
        `SLACK_BOT_TOKEN was refused by Slack (${code}): use the Bot User OAuth Token (xoxb-…) of the installed app`,
      );
    }
    const where = apiUrl ?? 'https://slack.com/api/';
    throw new SlackStartError(`Slack API at ${where} could not be used: ${code ?? (err as Error).message}`, {
      cause: err,
    });
  }
}

/** Bolt and the Web API client log through our pino logger (their chatter at debug). */
function toBoltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  return {
    debug: (...msg: unknown[]) => log.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => log.debug(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => log.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => log.error(msg.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
