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
 * Do not parse the request body before `handleHttp`: the signature covers the raw bytes. The adapter
 * itself is `SlackAdapter` (adapter.ts).
 */
import type { IncomingMessage as HttpRequest, ServerResponse } from 'node:http';
import type { Config } from '../../src/config/schema.ts';
import type { MessageActions } from '../../src/core/message-actions.ts';
import type { ChatService } from '../../src/core/service.ts';
import type { TitleWriter } from '../../src/core/thread-title.ts';
import type { Logger } from '../../src/log.ts';
import type { Metrics } from '../../src/metrics.ts';
import type { PlatformAdapter } from '../../src/platform.ts';
import type { Store } from '../../src/store/index.ts';
import { SlackAdapter } from './adapter.ts';
import type { SlackPacing } from './surface.ts';

export { SLACK_EVENTS_PATH, SlackAdapter } from './adapter.ts';
export { SlackStartError } from './socket-link.ts';
export { SLACK_PACING, type SlackPacing } from './surface.ts';

export interface StartSlackOptions {
  config: Config;
  service: ChatService;
  log: Logger;
  store: Store;
  /** Translate / Summarize thread message shortcuts (declared in the manifest); ignored without. */
  actions?: MessageActions | undefined;
  /** Counts the 429s Slack answered (qwenbot_platform_rate_limits_total). */
  metrics?: Metrics | undefined;
  /** Aborted when start-up is given up: stop connecting Socket Mode. */
  signal?: AbortSignal | undefined;
  /** Why Socket Mode is not connected yet (HTTP status), while start-up waits for it. */
  report?: ((problem: string) => void) | undefined;
  /** The FAQ's questions, for the default suggested prompts of assistant threads. */
  faqQuestions?: (() => string[]) | undefined;
  /** Writes assistant thread titles (a cheap model); without it threads keep Slack's own title. */
  writeTitle?: TitleWriter | undefined;
  /** Tests only (never from config): faster pacing than the platform's. Default SLACK_PACING. */
  pacing?: Partial<SlackPacing> | undefined;
}

export interface SlackHandle extends PlatformAdapter {
  readonly mode: 'socket' | 'http';
  /** Connected (Socket Mode) or accepting requests (HTTP mode). */
  readonly ready: boolean;
  readonly team: { id: string; name: string };
  readonly botUserId: string;
  /**
   * HTTP mode only: give every request of the shared HTTP server to this first. It answers
   * `POST /slack/events` (signature checked, 401 when bad or stale) and returns true; for any other
   * request it returns false and leaves the response alone.
   */
  handleHttp?: (req: HttpRequest, res: ServerResponse) => boolean;
  /** Resolves once every message received so far has been answered (tests, graceful shutdown). */
  idle(): Promise<void>;
  /** Stops taking new events (Socket Mode disconnects, HTTP answers 503); answers in flight go on. */
  pause(): Promise<void>;
  /** Pauses, then waits for the answers in flight. */
  stop(): Promise<void>;
}

export async function startSlack(options: StartSlackOptions): Promise<SlackHandle> {
  return (await SlackAdapter.create(options)).start();
}
