import type { Turn } from '../../src/core/history.ts';

/** A system prompt long enough (about 1,750 tokens) for the explicit cache to take it from turn one. */
export const LONG_SYSTEM_PROMPT = `You are Qwen. ${'Follow the house rules of this workspace carefully. '.repeat(130)}`;

/**
 * The "Today:" line /usage should show after these stored answers, worked out from DashScope's usage
 * at qwen-plus prices (¥4 in, ¥12 out per million; explicit cache hits 10 %, writes 125 % of input).
 */
export function expectedTodayLine(history: Turn[]): { line: string; cached: number; prompt: number } {
  const answers = history.filter((t) => t.role === 'assistant' && t.usage);
  const sum = (f: (u: NonNullable<Turn['usage']>) => number) =>
    answers.reduce((n, t) => n + (t.usage ? f(t.usage) : 0), 0);
  const prompt = sum((u) => u.promptTokens);
  const cached = sum((u) => u.cachedTokens);
  const written = sum((u) => u.cacheCreationTokens ?? 0);
  const completion = sum((u) => u.completionTokens);
  const reasoning = sum((u) => u.reasoningTokens);
  const plain = prompt - cached - written;
  const cost = (plain * 4 + cached * 0.4 + written * 5 + completion * 12) / 1e6;
  const saved = (cached * 3.6 - written * 1) / 1e6;
  const n = (x: number) => x.toLocaleString('en-US');
  const line =
    `Today: ${answers.length} answers, ${n(prompt)} in (${n(cached)} cached) / ${n(completion)} out ` +
    `(${n(reasoning)} reasoning) tokens, ≈¥${cost.toFixed(4)} (cache saved ≈¥${saved.toFixed(4)})`;
  return { line, cached, prompt };
}
