/**
 * Socket Mode: the URL `apps.connections.open` hands out leads here. The server greets with `hello`,
 * delivers envelopes (`events_api`, `slash_commands`, `interactive`) and checks each is acked within 3 seconds.
 */

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';

export const ACK_DEADLINE_MS = 3000;

export interface Ack {
  envelopeId: string;
  /** Time from delivery to ack. */
  ms: number;
  payload: unknown;
}

export class SocketModeServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly clients = new Set<WebSocket>();
  private readonly waiting = new Map<string, (ack: Ack) => void>();
  private connectedWaiters: Array<() => void> = [];
  /** Connections opened so far. */
  connections = 0;
  /** When set, every websocket upgrade is refused with this HTTP status (Slack's edge refusing us). */
  refuseWith: number | undefined;
  /** Upgrades refused so far. */
  refused = 0;
  readonly acks: Ack[] = [];

  constructor(server: Server) {
    server.on('upgrade', (req, socket, head) => {
      if (!(req.url ?? '').startsWith('/link')) {
        socket.destroy();
        return;
      }
      if (this.refuseWith !== undefined) {
        this.refused++;
        socket.end(`HTTP/1.1 ${this.refuseWith} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  get open(): number {
    return this.clients.size;
  }

  /** Resolves when at least one client is connected. */
  connected(): Promise<void> {
    if (this.clients.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  /** Delivers an Events API body (`event_callback`); resolves with the ack, rejects when none comes in 3 s. */
  deliverEvent(body: Record<string, unknown>, retry?: { attempt: number; reason: string }): Promise<Ack> {
    return this.deliver({
      type: 'events_api',
      payload: body,
      accepts_response_payload: false,
      retry_attempt: retry?.attempt ?? 0,
      retry_reason: retry?.reason ?? '',
    });
  }

  deliverCommand(payload: Record<string, unknown>): Promise<Ack> {
    return this.deliver({ type: 'slash_commands', payload, accepts_response_payload: true });
  }

  /** A button press or a modal submission (`block_actions`, `view_submission`), as Socket Mode delivers interactivity. */
  deliverInteraction(payload: Record<string, unknown>): Promise<Ack> {
    return this.deliver({ type: 'interactive', payload, accepts_response_payload: false });
  }

  /** Drops every connection without a goodbye, as a network failure would. */
  dropAll(): void {
    for (const ws of this.clients) ws.terminate();
  }

  close(): void {
    for (const ws of this.clients) ws.terminate();
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    this.clients.add(ws);
    this.connections++;
    ws.on('close', () => this.clients.delete(ws));
    ws.on('message', (data) => {
      let msg: { envelope_id?: string; payload?: unknown };
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        return;
      }
      const done = msg.envelope_id ? this.waiting.get(msg.envelope_id) : undefined;
      if (done) done({ envelopeId: msg.envelope_id ?? '', ms: 0, payload: msg.payload });
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.clients.size,
        debug_info: { host: 'fake-slack', approximate_connection_time: 18060 },
        connection_info: { app_id: 'A0FAKE' },
      }),
    );
    for (const w of this.connectedWaiters.splice(0)) w();
  }

  private deliver(envelope: Record<string, unknown>): Promise<Ack> {
    const ws = [...this.clients][0];
    if (!ws) return Promise.reject(new Error('no Socket Mode client is connected'));
    const envelopeId = randomUUID();
    const started = Date.now();
    return new Promise<Ack>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(envelopeId);
        reject(new Error(`envelope ${envelopeId} was not acked within ${ACK_DEADLINE_MS} ms`));
      }, ACK_DEADLINE_MS);
      this.waiting.set(envelopeId, (ack) => {
        clearTimeout(timer);
        this.waiting.delete(envelopeId);
        const record = { ...ack, ms: Date.now() - started };
        this.acks.push(record);
        resolve(record);
      });
      ws.send(JSON.stringify({ envelope_id: envelopeId, ...envelope }));
    });
  }
}
