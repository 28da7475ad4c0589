import { type AppOptions, createApp } from './app.ts';
import type { Config } from './config/schema.ts';
import { type HttpServer, type ReadinessCheck, startHttpServer } from './http.ts';
import { type AdapterStarter, type BotContext, type PlatformAdapter, StartupError } from './platform.ts';
import { redactUrl } from './store/index.ts';

/** SIGTERM/SIGINT arrived before start-up finished: everything started was closed again (exit 0). */
export class StartupAborted extends Error {
  readonly code = 'aborted';
}

export interface RunningBot extends BotContext {
  /** The platforms connected so far (one that connects late is added when it does). */
  adapters: PlatformAdapter[];
  /** Graceful stop: pause intake, let answers finish within the grace period, end the rest, close. */
  shutdown(reason: string): Promise<void>;
}

export interface RunOptions extends AppOptions {
  /** Aborting gives up start-up: what started is closed and runBot rejects with StartupAborted. */
  signal?: AbortSignal;
  /** Called once the HTTP server listens, before the platforms connect (tests ask /readyz then). */
  onListening?: (http: HttpServer) => void;
}

/** What /readyz says about one configured platform. */
class PlatformState {
  adapter: PlatformAdapter | undefined;
  problem: string | undefined;
  /** Its starter found it not configured. */
  absent = false;
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }

  /** undefined when connected (or not configured), else why not. */
  notReady(): string | undefined {
    if (this.absent) return undefined;
    if (!this.adapter) return this.problem ? `connecting: ${this.problem}` : 'connecting';
    if (this.adapter.isReady()) return undefined;
    const why = this.adapter.problem();
    return why ? `disconnected: ${why}` : 'disconnected';
  }
}

/**
 * Node keeps a PerformanceResourceTiming of the first 250 fetches (model calls and the like) in a
 * process-wide buffer until someone clears it; nothing in the bot reads them: 136 KB of heap after the
 * memory bench's 1,000 conversations. With a buffer of 0 each entry is dropped as it is made.
 */
function keepNoResourceTimings(): void {
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(0);
}

/**
 * Starts the app, the HTTP server (so /readyz answers from the first second: 503 until every
 * configured platform is connected) and all platforms side by side. Resolves when every platform is
 * connected, or when `platforms.connectTimeoutSeconds` passed and at least one is (the others are
 * logged with their reason and keep trying); rejects with a StartupError when none connected in time.
 */
export async function runBot(
  config: Config,
  starters: AdapterStarter[],
  options: RunOptions = {},
): Promise<RunningBot> {
  const { signal: outer, onListening, ...appOptions } = options;
  keepNoResourceTimings();
  const app = await createApp(config, appOptions);
  const log = app.log.child({ component: 'main' });
  const platforms = starters.map((s) => new PlatformState(s.platform));
  const checks: Record<string, ReadinessCheck> = {
    store: () =>
      withTimeout(
        app.store.get('__ping__').then(() => undefined),
        2000,
        `store ${redactUrl(config.store.url)} not reachable`,
      ),
  };
  for (const p of platforms) checks[p.name] = () => p.notReady();
  const http = await startHttpServer({
    port: config.http.port,
    log: app.log.child({ component: 'http' }),
    metrics: app.metrics,
    checks,
    // Each MCP server's state; a failed one is retried and never makes the bot unready.
    details: {
      mcp: () => (config.mcp.servers && Object.keys(config.mcp.servers).length ? mcpDetail(app) : undefined),
    },
  }).catch(async (err: unknown) => {
    await app.close();
    throw err;
  });
  onListening?.(http);
  const adapters: PlatformAdapter[] = [];
  // Aborted with the reason start-up (or, later, connecting) is given up.
  const giveUp = new AbortController();
  const onOuter = () =>
    giveUp.abort(new StartupAborted(`stopped during start-up (${String(outer?.reason)})`));
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  let running = false;
  const starting = starters.map(async (starter, i) => {
    const state = platforms[i] as PlatformState;
    const report = (problem: string) => {
      if (problem !== state.problem) log.debug({ platform: state.name, problem }, 'not connected yet');
      state.problem = problem;
    };
    try {
      const adapter = await starter.start({ app, http, signal: giveUp.signal, report });
      if (!adapter) {
        state.absent = true;
        return;
      }
      if (giveUp.signal.aborted) return void (await adapter.stop().catch(() => undefined));
      state.adapter = adapter;
      adapters.push(adapter);
      if (running) log.info({ platform: state.name }, `${state.name} connected (after the start-up wait)`);
    } catch (err) {
      if (giveUp.signal.aborted) return;
      // A platform refused to work (bad token): during start-up that stops the process.
      if (!running) return giveUp.abort(err);
      log.error({ err, platform: state.name }, `${state.name} could not start`);
    }
  });
  const timeoutSeconds = config.platforms.connectTimeoutSeconds;
  let timer: NodeJS.Timeout | undefined;
  const waited = await Promise.race([
    Promise.all(starting).then(() => 'all' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000);
    }),
    new Promise<'aborted'>((resolve) => {
      if (giveUp.signal.aborted) resolve('aborted');
      giveUp.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    }),
  ]);
  clearTimeout(timer);
  outer?.removeEventListener('abort', onOuter);
  const tearDown = async () => {
    for (const a of adapters) await a.stop().catch(() => undefined);
    await http.close();
    await app.close();
  };
  if (waited === 'timeout' && !giveUp.signal.aborted) {
    const late = platforms.filter((p) => !p.adapter && !p.absent);
    for (const p of late) {
      const reason = p.problem ?? 'no answer from the platform';
      log.error(
        { platform: p.name, reason, connectTimeoutSeconds: timeoutSeconds },
        `${p.name} did not connect within ${timeoutSeconds} s: ${reason}`,
      );
    }
    if (adapters.length === 0) {
      const why = late.map((p) => `${p.name} (${p.problem ?? 'no answer from the platform'})`).join(', ');
      giveUp.abort(
        new StartupError(
          `no chat platform connected within ${timeoutSeconds} s: ${why}. Check the network and the platform's status (platforms.connectTimeoutSeconds sets the wait).`,
        ),
      );
    }
  }
  if (giveUp.signal.aborted) {
    const reason: unknown = giveUp.signal.reason;
    if (reason instanceof StartupAborted) log.info(reason.message);
    await tearDown();
    throw reason;
  }
  running = true;
  const editors = adapters.map((a) => a.editor);
  await app.service
    .recoverInterrupted(editors)
    .catch((err: unknown) => log.warn({ err }, 'crash recovery failed'));
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      // A platform still connecting stops trying (and one that connects now is closed at once).
      giveUp.abort(new StartupAborted('shutting down'));
      const graceMs = config.shutdown.graceSeconds * 1000;
      log.info({ reason, active: app.service.activeCount, graceMs }, 'shutting down');
      for (const a of adapters)
        void a.pause().catch((err: unknown) => log.warn({ err, adapter: a.name }, 'adapter pause failed'));
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

function mcpDetail(app: RunningBot['app']): Record<string, unknown> {
  return Object.fromEntries(
    app.tools.catalog.servers().map((s) => [
      s.name,
      {
        state: s.state,
        tools: s.tools.length,
        ...(s.error ? { error: s.error } : {}),
        ...(s.retryAt !== undefined ? { retryAt: new Date(s.retryAt).toISOString() } : {}),
      },
    ]),
  );
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
