/** What every Web API method of the fake takes and answers, and the helpers they share. */
import type { Workspace } from './model.ts';

export type Params = Record<string, unknown>;
export type Result = { ok: true; [k: string]: unknown } | { ok: false; error: string; [k: string]: unknown };

export interface FakeUser {
  id: string;
  name: string;
  displayName?: string;
  isAdmin?: boolean;
  isOwner?: boolean;
  isBot?: boolean;
  locale?: string;
}

export interface MethodContext {
  ws: Workspace;
  team: { id: string; name: string };
  bot: { userId: string; botId: string; name: string };
  users: Map<string, FakeUser>;
  streamTtlMs: number;
  /** How long a stream may go without an append before Slack closes it (reported: about 5 minutes). */
  streamIdleMs: number;
  socketUrl: () => string;
  now: () => number;
  /** Refuse `context_actions` blocks (Slack's feedback buttons) with invalid_blocks (blocks.ts). */
  refuseContextActions?: boolean;
}

export const fail = (error: string, extra: Record<string, unknown> = {}): Result => ({
  ok: false,
  error,
  ...extra,
});
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
