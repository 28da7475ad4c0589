/**
 * Sends Events API and slash-command requests to the bot's HTTP endpoint the way Slack does: signed
 * with HMAC-SHA256 over `v0:<timestamp>:<raw body>`, with retry headers when asked.
 */
import { createHmac } from 'node:crypto';

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SendOptions {
  retryNum?: number;
  retryReason?: string;
  /** Seconds since the epoch to sign with (default now); older than 5 minutes is stale. */
  timestamp?: number;
  /** Sign with another secret (a forged request). */
  secret?: string;
}

export interface SendResult {
  status: number;
  body: string;
  /** Time until the HTTP response (Slack wants it within 3 s). */
  ms: number;
}

export class SignedSender {
  readonly url: string;
  private readonly secret: string;

  constructor(url: string, secret: string) {
    this.url = url;
    this.secret = secret;
  }

  event(body: Record<string, unknown>, options: SendOptions = {}): Promise<SendResult> {
    return this.send(JSON.stringify(body), 'application/json', options);
  }

  command(fields: Record<string, string>, options: SendOptions = {}): Promise<SendResult> {
    return this.send(new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', options);
  }

  /** An interactivity payload (button press): form-encoded `payload=<json>`, as Slack posts it. */
  interaction(payload: Record<string, unknown>, options: SendOptions = {}): Promise<SendResult> {
    const raw = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.send(raw, 'application/x-www-form-urlencoded', options);
  }

  private async send(raw: string, contentType: string, o: SendOptions): Promise<SendResult> {
    const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(o.secret ?? this.secret, timestamp, raw),
    };
    if (o.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(o.retryNum);
      headers['x-slack-retry-reason'] = o.retryReason ?? 'http_timeout';
    }
    const started = Date.now();
    const res = await fetch(this.url, { method: 'POST', headers, body: raw });
    const body = await res.text();
    return { status: res.status, body, ms: Date.now() - started };
  }
}
