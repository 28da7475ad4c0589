import { createHash } from 'node:crypto';
import type { ChatMessage } from '../qwen/client.ts';
import { CACHE_MAX_MARKERS, CACHE_MIN_TOKENS } from '../qwen/usage.ts';
import type { Turn } from './history.ts';

/** About one user turn in this many may start a trimmed prompt (see stableStart). */
const START_EVERY = 4;
/**
 * Turns of history a stable start may leave out beyond what fits. Measured over 280 turns of a long
 * conversation (test/core/cache-markers.test.ts): 24 keeps about 73 % of turns reading the previous
 * prefix while leaving out about 6 of 100 turns on average (16: 63 %; unbounded: 77 % but up to 38).
 */
const MAX_START_SKIP = 24;

export interface CacheMarking {
  /** Estimated (calibrated) tokens that precede the messages: the tool schemas. */
  leadTokens: number;
  /** Estimated (calibrated) tokens of each message, in the order of `messages`. */
  messageTokens: number[];
  minTokens?: number;
}

/**
 * Which messages carry a `cache_control` marker, so that each turn re-reads what the turn before it
 * wrote. The prompt is [system] + history + the current user turn; the current turn (and tool rounds
 * after it) changes every time, so markers sit only on the stable part before it:
 * - the system prompt, when it alone reaches the minimum (it survives /reset and history trimming);
 * - the end of the history (the message right before the current turn): written now, read next turn;
 * - the end of the history one exchange earlier (right before the previous user turn): exactly where
 *   the previous turn wrote, so this turn reads it without relying on DashScope's 20-block look-back.
 * A marker is set only where the prefix up to it reaches the minimum size. At most 3 markers (≤ 4).
 */
export function cacheMarkerPositions(messages: ChatMessage[], marking: CacheMarking): number[] {
  const min = marking.minTokens ?? CACHE_MIN_TOKENS;
  const current = messages.length - 1;
  if (current < 1) return [];
  const prefix: number[] = [];
  let sum = marking.leadTokens;
  for (const tokens of marking.messageTokens) {
    sum += tokens;
    prefix.push(sum);
  }
  const candidates = new Set<number>();
  if (messages[0]?.role === 'system') candidates.add(0);
  const historyEnd = current - 1;
  candidates.add(historyEnd);
  const previousUser = lastIndexOf(messages, 'user', historyEnd);
  if (previousUser > 0) candidates.add(previousUser - 1);
  return [...candidates]
    .filter((i) => i >= 0 && i < current && (prefix[i] ?? 0) >= min)
    .sort((a, b) => a - b)
    .slice(-CACHE_MAX_MARKERS);
}

/** The messages with a marker on each given one (content in DashScope's array-of-parts form). */
export function withCacheMarkers(messages: ChatMessage[], positions: number[]): ChatMessage[] {
  if (!positions.length) return messages;
  const marked = new Set(positions);
  return messages.map((m, i) => (marked.has(i) ? markMessage(m) : m));
}

function markMessage(message: ChatMessage): ChatMessage {
  const cache_control = { type: 'ephemeral' };
  if (typeof message.content === 'string') {
    const part = { type: 'text', text: message.content, cache_control };
    return { ...message, content: [part] } as ChatMessage;
  }
  if (!Array.isArray(message.content) || message.content.length === 0) return message;
  // The marker goes on the last part: the cached prefix ends with the whole message.
  const parts: unknown[] = [...message.content];
  parts[parts.length - 1] = { ...(parts.at(-1) as object), cache_control };
  return { ...message, content: parts } as ChatMessage;
}

function lastIndexOf(messages: ChatMessage[], role: string, before: number): number {
  for (let i = before; i >= 0; i--) if (messages[i]?.role === role) return i;
  return -1;
}

/**
 * Where a prompt whose oldest turns no longer fit (the budget, or the stored window sliding) starts:
 * the first user turn at or after `from` that is a start point, chosen by a hash of the turn itself.
 * The start then stays on the same turn while the history grows, until that turn would no longer fit,
 * and jumps about START_EVERY user turns on — so the cached prefix breaks once every few turns, not on
 * every one. Leaves out at most MAX_START_SKIP turns more; without a start point in reach it is `from`.
 */
export function stableStart(turns: Turn[], from: number): number {
  const last = Math.min(turns.length - 1, from + MAX_START_SKIP + 1);
  for (let j = from; j < last; j++) {
    const turn = turns[j];
    if (turn?.role === 'user' && isStartPoint(turn)) return j;
  }
  return from;
}

function isStartPoint(turn: Turn): boolean {
  const digest = createHash('sha1')
    .update(`${turn.at}\u0000${turn.authorId ?? ''}\u0000${turn.text}`)
    .digest();
  return digest.readUInt32BE(0) % START_EVERY === 0;
}
