/**
 * Small helpers the suites share: waiting on an observable condition with a deadline (never a fixed
 * sleep; the wait lives in test/support/fake-time.ts), collecting unhandled rejections, and reading structured log records.
 */

import { showsStop } from '../support/fake-discord/components.ts';
import type { FakeDiscord } from '../support/fake-discord/index.ts';

export { until } from '../support/fake-time.ts';

/** Records every unhandled rejection while installed; `stop()` removes the listener. */
export function watchUnhandled(): { seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onRejection);
  return { seen, stop: () => void process.off('unhandledRejection', onRejection) };
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export type LogRecord = Record<string, unknown> & { level: number; msg: string };

/** Log records (JSON lines) since line `from` whose message matches. */
export function logged(logs: { lines: string[] }, msg: string | RegExp, from = 0): LogRecord[] {
  return logs.lines
    .slice(from)
    .map((l) => JSON.parse(l) as LogRecord)
    .filter((r) => (typeof msg === 'string' ? r.msg === msg : msg.test(r.msg)));
}

/** Waits for the bot's finished reply (no Stop button left) to one Discord message. */
export function finishedReply(fake: FakeDiscord, channelId: string, messageId: string, what: string) {
  return fake.waitFor(
    () =>
      fake.botMessages(channelId).find((m) => m.message_reference?.message_id === messageId && !showsStop(m)),
    10_000,
    what,
  );
}
