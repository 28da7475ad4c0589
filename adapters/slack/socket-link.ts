/**
 * Socket Mode's connection, as readiness sees it: connected or not, and why not (an HTTP status of
 * the refused websocket or of apps.connections.open). The SDK reconnects by itself; start-up waits
 * for its first `connected` and gives up when the caller's signal is aborted.
 */
import dc from 'node:diagnostics_channel';
import type { App, SocketModeReceiver } from '@slack/bolt';
import type { Logger } from '../../src/log.ts';
import { StartupError } from '../../src/platform.ts';

/** Slack could not be started; `message` is one line a person can act on (main prints it, exits 1). */
export class SlackStartError extends StartupError {}

export const AUTH_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
]);

/** Shared with the adapter: `stopped` is set by its pause(). */
export interface SocketState {
  ready: boolean;
  stopped: boolean;
  /** Why the socket is not connected, when known. */
  problem: string | undefined;
}

export interface SocketLinkOptions {
  app: App;
  receiver: SocketModeReceiver;
  state: SocketState;
  log: Logger;
  signal?: AbortSignal | undefined;
  report?: ((problem: string) => void) | undefined;
  /** Wait before asking apps.connections.open again after it answered a server error. */
  retryDelayMs?: number;
}

/** undici (the SDK's websocket) publishes every response's headers; the handshake's status is there. */
const HEADERS_CHANNEL = 'undici:request:headers';

type SocketClient = SocketModeReceiver['client'];

/** Resolves once Socket Mode is connected; rejects with a SlackStartError when it cannot work at all. */
export async function connectSocketMode(o: SocketLinkOptions): Promise<() => void> {
  const { receiver, state, log } = o;
  const client = receiver.client;
  const problem = (why: string) => {
    state.problem = why;
    if (!state.ready) o.report?.(why);
  };
  const unwatch = watchHandshakeStatus(client, problem);
  const firstConnect = watchConnection(client, state, log);
  const giveUp = abortOn(o.signal, client);
  try {
    for (;;) {
      const outcome = await Promise.race([
        o.app.start().then(
          () => 'connected' as const,
          (err: unknown) => err,
        ),
        firstConnect.then(() => 'connected' as const),
        giveUp.aborted,
      ]);
      if (outcome === 'connected') break;
      const retry = classify(outcome, problem);
      // A refused websocket: the SDK reconnects by itself (its back-off); wait for it.
      if (retry === 'sdk') {
        if (!state.problem) problem('Socket Mode websocket failed (no HTTP status)');
        await Promise.race([firstConnect, giveUp.aborted]);
        break;
      }
      await Promise.race([new Promise((r) => setTimeout(r, o.retryDelayMs ?? 5000)), giveUp.aborted]);
    }
  } catch (err) {
    unwatch();
    throw err;
  } finally {
    // Connected (or failed): from now on only the adapter's pause() ends the socket.
    giveUp.remove();
  }
  state.ready = !state.stopped;
  state.problem = undefined;
  log.info('Socket Mode connected');
  return unwatch;
}

/**
 * The HTTP status of a refused handshake (apps.connections.open, or the websocket upgrade to the URL it
 * gave), reported as the problem at once. Returns the unsubscribe.
 */
function watchHandshakeStatus(client: SocketClient, problem: (why: string) => void): () => void {
  let socketUrl: URL | undefined;
  client.on('authenticated', (resp: { url?: string }) => {
    socketUrl = resp.url ? new URL(resp.url) : undefined;
  });
  const onHeaders = (message: unknown) => {
    const { request, response } = message as {
      request?: { origin?: string; path?: string };
      response?: { statusCode?: number };
    };
    const status = response?.statusCode;
    if (status === undefined || status === 101) return;
    // The web client retries a server error itself before start() hears of it: say so at once.
    if (status >= 400 && request?.path?.split('?')[0]?.endsWith('/apps.connections.open'))
      return problem(`apps.connections.open answered HTTP ${status}`);
    if (!socketUrl) return;
    if (request?.path !== `${socketUrl.pathname}${socketUrl.search}`) return;
    if (request.origin && new URL(request.origin).host !== socketUrl.host) return;
    problem(`Socket Mode websocket refused: HTTP ${status}`);
  };
  dc.subscribe(HEADERS_CHANNEL, onHeaders);
  return () => dc.unsubscribe(HEADERS_CHANNEL, onHeaders);
}

/** Keeps `state.ready` true exactly while connected; resolves at the first connection. */
function watchConnection(client: SocketClient, state: SocketState, log: Logger): Promise<void> {
  let connectedBefore = false;
  let connected: () => void = () => undefined;
  const firstConnect = new Promise<void>((resolve) => (connected = resolve));
  client.on('connected', () => {
    state.ready = !state.stopped;
    state.problem = undefined;
    if (connectedBefore && !state.stopped) log.info('Socket Mode reconnected');
    connectedBefore = true;
    connected();
  });
  // Logged once per drop (the SDK reports it as close and as disconnected), never for our own stop.
  const lost = () => {
    if (state.ready && !state.stopped) log.warn('Socket Mode connection lost; reconnecting');
    state.ready = false;
  };
  client.on('disconnected', lost);
  client.on('close', lost);
  return firstConnect;
}

/** Rejects (and disconnects) when start-up is given up; `remove` stops listening once connected. */
function abortOn(signal: AbortSignal | undefined, client: SocketClient) {
  let stop: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    stop = () => {
      void client.disconnect().catch(() => undefined);
      reject(new SlackStartError('Socket Mode: start-up given up'));
    };
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', stop, { once: true });
  });
  aborted.catch(() => undefined);
  return { aborted, remove: () => signal?.removeEventListener('abort', stop) };
}

/** Throws for what retrying cannot fix; otherwise says who retries (the SDK, or us). */
function classify(err: unknown, problem: (why: string) => void): 'sdk' | 'us' {
  const e = err as { data?: { error?: string }; statusCode?: number; message?: string } | undefined;
  const code = e?.data?.error;
  if (code && AUTH_ERRORS.has(code)) {
    throw new SlackStartError(
      `SLACK_APP_TOKEN was refused by Slack (${code}): use an app-level token (xapp-…) with connections:write`,
    );
  }
  const status = e?.statusCode;
  if (status !== undefined) {
    const why = `apps.connections.open answered HTTP ${status}`;
    if (status < 500 && status !== 429)
      throw new SlackStartError(`Socket Mode could not connect: ${why}`, { cause: err });
    problem(why);
    return 'us';
  }
  if (code) throw new SlackStartError(`Socket Mode could not connect: ${code}`, { cause: err });
  // The websocket itself failed (refused upgrade, network): its status, if any, came from undici.
  return 'sdk';
}
