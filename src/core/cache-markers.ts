import type { ChatMessage } from '../qwen/client.ts';
import { CACHE_MAX_MARKERS, CACHE_MIN_TOKENS } from '../qwen/usage.ts';

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
