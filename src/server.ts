import { type App, type AppOptions, createApp } from './app.ts';
import type { Config } from './config/schema.ts';
import type { MessageEditor } from './core/inflight.ts';
import { type HttpServer, startHttpServer } from './http.ts';
import { redactUrl } from './store/index.ts';

/** A platform could not start (bad token, unreachable API): main prints the message and exits 1. */
export class StartupError extends Error {
  readonly code = 'startup';
}

/** A running platform connection, as main sees it. */
export interface PlatformAdapter {
  name: string;
  /** Connected and able to answer. */
  isReady(): boolean;
  /** Stop taking new events (shutdown begins); answers in flight can still be edited. */
  pause?(): void;
  /** Disconnect. */
  stop(): Promise<void>;
  /** Edits earlier messages by id (repairs answers cut by a crash). */
  editor?: MessageEditor;
}

export interface BotContext {
  app: App;
  http: HttpServer;
}

/** Starts one platform when its credentials are configured; resolves undefined otherwise. */
export type AdapterStarter = (ctx: BotContext) => Promise<PlatformAdapter | undefined>;

export interface RunningBot extends BotContext {
  adapters: PlatformAdapter[];
  /** Graceful stop: pause intake, let answers finish within the grace period, end the rest, close. */
  shutdown(reason: string): Promise<void>;
}

export async function runBot(
  config: Config,
  starters: AdapterStarter[],
  options: AppOptions = {},
): Promise<RunningBot> {
  const app = await createApp(config, options);
  const log = app.log.child({ component: 'main' });
  const adapters: PlatformAdapter[] = [];
  const http = await startHttpServer({
    port: config.http.port,
    log: app.log.child({ component: 'http' }),
    metrics: app.metrics,
    checks: {
      store: () =>
        withTimeout(
          app.store.get('__ping__').then(() => undefined),
          2000,
          `store ${redactUrl(config.store.url)} not reachable`,
        ),
      adapters: () => {
        const down = adapters.filter((a) => !a.isReady()).map((a) => a.name);
        return down.length ? `not connected: ${down.join(', ')}` : undefined;
      },
    },
  });
  try {
    for (const start of starters) {
      const adapter = await start({ app, http });
      if (adapter) adapters.push(adapter);
    }
  } catch (err) {
    // A platform refused to start: undo what did start, so the process can exit with the error.
    for (const a of adapters) await a.stop().catch(() => undefined);
    await http.close();
    await app.close();
    throw err;
  }
  const editors = adapters.flatMap((a) => (a.editor ? [a.editor] : []));
  await app.service
    .recoverInterrupted(editors)
    .catch((err: unknown) => log.warn({ err }, 'crash recovery failed'));
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      const graceMs = config.shutdown.graceSeconds * 1000;
      log.info({ reason, active: app.service.activeCount, graceMs }, 'shutting down');
      for (const a of adapters) a.pause?.();
      await app.service.drain(graceMs);
      for (const a of adapters)
        await a.stop().catch((err: unknown) => log.warn({ err, adapter: a.name }, 'adapter stop failed'));
      await http.close();
      await app.close();
      log.info('stopped');
    })();
    return stopping;
  };
  return { app, http, adapters, shutdown };
}

/** Wires SIGTERM/SIGINT to a graceful shutdown, then exit 0 (a second signal exits at once). */
export function handleSignals(bot: RunningBot): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    void bot.shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        bot.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? new Error(`${message}: ${err.message}`) : err);
      },
    );
  });
}
