import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Something /readyz asks: "ready", or why not. */
export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

export interface HttpServerOptions {
  port: number;
  host?: string;
  log: Logger;
  metrics: Metrics;
  /** Named checks; /readyz is 200 when all return undefined, 503 with the reasons otherwise. */
  checks: Record<string, ReadinessCheck>;
  /** Shown in /readyz without deciding readiness (MCP servers: a failed one does not make the bot unready). */
  details?: Record<string, () => unknown>;
  /** Extra routes by exact path prefix (e.g. the Slack HTTP receiver at /slack/events). */
  routes?: Record<string, Handler>;
}

export interface HttpServer {
  server: Server;
  port: number;
  addRoute(prefix: string, handler: Handler): void;
  close(): Promise<void>;
}

/** One HTTP server for health, readiness, metrics and the Slack HTTP receiver. */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const routes = new Map(Object.entries(opts.routes ?? {}));
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    try {
      if (path === '/healthz') return json(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        const failures: Record<string, string> = {};
        for (const [name, check] of Object.entries(opts.checks)) {
          const problem = await Promise.resolve()
            .then(check)
            .catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
          if (problem) failures[name] = problem;
        }
        const ok = Object.keys(failures).length === 0;
        const details = Object.fromEntries(
          Object.entries(opts.details ?? {})
            .map(([name, detail]) => [name, detail()] as const)
            .filter(([, value]) => value !== undefined),
        );
        const extra = Object.keys(details).length ? { details } : {};
        return json(
          res,
          ok ? 200 : 503,
          ok ? { status: 'ready', ...extra } : { status: 'not ready', failures, ...extra },
        );
      }
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': opts.metrics.registry.contentType });
        return void res.end(await opts.metrics.registry.metrics());
      }
      for (const [prefix, handler] of routes)
        if (path.startsWith(prefix)) return void (await handler(req, res));
      json(res, 404, { error: 'not found' });
    } catch (err) {
      opts.log.error({ err, path }, 'http handler failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ port }, 'http server listening (/healthz, /readyz, /metrics)');
  return {
    server,
    port,
    addRoute: (prefix, handler) => void routes.set(prefix, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
