/**
 * The contracts between main, the HTTP/shutdown wiring (src/server.ts) and the platform adapters: what an
 * adapter implements (PlatformAdapter, AdapterStarter), what it is given to start (StartContext) and the
 * error it throws when it cannot work at all (StartupError).
 */
import type { App } from './app.ts';
import type { MessageEditor } from './core/inflight.ts';
import type { HttpServer } from './http.ts';

/** A platform could not start (bad token, unreachable API): main prints the message and exits 1. */
export class StartupError extends Error {
  readonly code = 'startup';
}

/**
 * A running platform connection, as main sees it: the one shape every platform adapter has (Discord
 * and Slack implement it as classes; `satisfies`/`implements` check it at compile time).
 */
export interface PlatformAdapter {
  readonly name: string;
  /** Connected and able to answer. */
  isReady(): boolean;
  /** Why it is not connected right now (gateway close code, HTTP status), when known. */
  problem(): string | undefined;
  /**
   * Tells the platform which commands the core has (Discord: application commands, overwritten in
   * bulk). The adapter calls it itself once connected; failures are logged, never thrown.
   */
  registerCommands(): Promise<void>;
  /** Stop taking new events (shutdown begins); answers in flight can still be edited. */
  pause(): Promise<void>;
  /** Disconnect (after the answers in flight, where the platform can wait for them). */
  stop(): Promise<void>;
  /** Edits earlier messages by id (repairs answers cut by a crash). */
  readonly editor: MessageEditor;
}

export interface BotContext {
  app: App;
  http: HttpServer;
}

export interface StartContext extends BotContext {
  /** Aborted when start-up is given up (a signal, another platform's fatal error, shutdown): stop connecting. */
  signal: AbortSignal;
  /** The latest reason the platform is not connected yet (close code, HTTP status), for /readyz and the logs. */
  report(problem: string): void;
}

/** One platform main may start; `platform` names it in /readyz and the logs before it exists. */
export interface AdapterStarter {
  platform: string;
  /**
   * Resolves once connected (undefined when the platform is not configured); rejects with a
   * StartupError when it cannot work at all (a refused token). Keeps trying through outages.
   */
  start(ctx: StartContext): Promise<PlatformAdapter | undefined>;
}
