import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ChatMessage, Usage } from './client.ts';

/** DashScope's explicit context cache: a marked prefix shorter than this is not cached. */
export const CACHE_MIN_TOKENS = 1024;
/** DashScope refuses a request with more `cache_control` markers than this. */
export const CACHE_MAX_MARKERS = 4;

/** `cache_control` markers in a request's messages (what DashScope counts against its limit). */
export function countCacheMarkers(messages: ChatMessage[]): number {
  let n = 0;
  for (const m of messages) {
    if (!Array.isArray(m.content)) continue;
    for (const part of m.content) if ((part as { cache_control?: unknown }).cache_control) n++;
  }
  return n;
}

/**
 * DashScope's usage chunk as our Usage. `explicitCache`: the request carried markers, so its cached
 * tokens came from the explicit cache (DashScope never mixes explicit and implicit in one request).
 */
export function toUsage(u: NonNullable<ChatCompletionChunk['usage']>, explicitCache: boolean): Usage {
  const details = u.prompt_tokens_details as
    | { cached_tokens?: number; cache_creation_input_tokens?: number }
    | undefined;
  const cachedTokens = details?.cached_tokens ?? 0;
  const cacheCreationTokens = details?.cache_creation_input_tokens ?? 0;
  return {
    promptTokens: u.prompt_tokens ?? 0,
    completionTokens: u.completion_tokens ?? 0,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
    cachedTokens,
    ...(explicitCache ? { explicitCachedTokens: cachedTokens, cacheCreationTokens } : {}),
    totalTokens: u.total_tokens ?? 0,
  };
}
