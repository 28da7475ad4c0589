import type { Usage } from '../qwen/client.ts';
import type { StreamPartial } from '../qwen/errors.ts';
import { estimateTokens } from './prompt.ts';

/**
 * What DashScope bills for one answer, across its model calls (tool rounds, retries): the usage chunk of
 * every call that sent one, else an estimate — the prompt builder's (calibrated) prompt estimate plus the
 * tokens of the text and reasoning that streamed. A call DashScope refused with an HTTP error before the
 * stream opened (429, 400, 5xx) is not billed and adds nothing.
 */
export class BilledUsage {
  private total: Usage = {
    promptTokens: 0,
    completionTokens: 0,
    reasoningTokens: 0,
    cachedTokens: 0,
    totalTokens: 0,
  };
  private calls = 0;
  private estimatedCalls = 0;

  /** A call that finished with DashScope's usage chunk (or without one: estimated). */
  completed(promptEstimate: number, result: { usage: Usage | null; text: string; reasoning: string }): void {
    if (result.usage) this.add(result.usage);
    else this.estimate(promptEstimate, result.text, result.reasoning);
  }

  /** A call that failed or was stopped, with what it had received by then. */
  failed(promptEstimate: number, partial: StreamPartial | undefined): void {
    if (!partial) return;
    if (partial.usage) this.add(partial.usage);
    else if (partial.opened) this.estimate(promptEstimate, partial.text, partial.reasoning);
  }

  /** The answer's billed usage, or null when nothing was billed. */
  get usage(): Usage | null {
    if (this.calls === 0) return null;
    return this.estimatedCalls ? { ...this.total, estimated: true } : { ...this.total };
  }

  private estimate(promptTokens: number, text: string, reasoning: string): void {
    const reasoningTokens = reasoning ? estimateTokens(reasoning) : 0;
    const completionTokens = (text ? estimateTokens(text) : 0) + reasoningTokens;
    this.estimatedCalls++;
    this.add({
      promptTokens,
      completionTokens,
      reasoningTokens,
      cachedTokens: 0,
      totalTokens: promptTokens + completionTokens,
    });
  }

  private add(u: Usage): void {
    this.calls++;
    const t = this.total;
    t.promptTokens += u.promptTokens;
    t.completionTokens += u.completionTokens;
    t.reasoningTokens += u.reasoningTokens;
    t.cachedTokens += u.cachedTokens;
    if (u.explicitCachedTokens)
      t.explicitCachedTokens = (t.explicitCachedTokens ?? 0) + u.explicitCachedTokens;
    if (u.cacheCreationTokens) t.cacheCreationTokens = (t.cacheCreationTokens ?? 0) + u.cacheCreationTokens;
    t.totalTokens += u.totalTokens;
  }
}
