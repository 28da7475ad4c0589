/**
 * One non-streamed chat completion, for calls whose text nobody watches arrive: Translate. qwen-mt-turbo
 * and qwen-mt-plus stream non-incrementally (every chunk repeats the text so far), so the whole answer
 * in one response is both simpler and correct for every qwen-mt model.
 */
import { type ChatMessage, type ChatResult, MAX_RETRY_AFTER_MS, type QwenClient } from './client.ts';
import { QwenError, toQwenError } from './errors.ts';
import { toUsage } from './usage.ts';

/** DashScope's machine-translation options (a top-level body field in compatible mode). */
export interface TranslationOptions {
  source_lang: string;
  target_lang: string;
}

export interface CompletionRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  translationOptions?: TranslationOptions;
  signal?: AbortSignal;
}

/** Pause before the one retry of a 5xx, 429 or dropped connection (nothing was shown yet). */
const RETRY_DELAY_MS = 1000;

/** One completion, retried once when DashScope's failure is worth another attempt (platform-facts.md). */
export async function completeChat(client: QwenClient, req: CompletionRequest): Promise<ChatResult> {
  try {
    return await completeOnce(client, req);
  } catch (err) {
    if (!(err instanceof QwenError) || !err.retryable || req.signal?.aborted) throw err;
    const wait = Math.min(err.retryAfterMs ?? RETRY_DELAY_MS, MAX_RETRY_AFTER_MS);
    await new Promise((resolve) => setTimeout(resolve, wait));
    return completeOnce(client, req);
  }
}

async function completeOnce(client: QwenClient, req: CompletionRequest): Promise<ChatResult> {
  const estimate = Math.ceil(JSON.stringify(req.messages).length / 4) + (req.maxTokens ?? 1024);
  const grant = await client.limits?.acquire(req.model, { tokens: estimate, signal: req.signal });
  try {
    const body = {
      model: req.model,
      messages: req.messages,
      stream: false as const,
      ...(req.maxTokens ? { max_completion_tokens: req.maxTokens } : {}),
      // Not an OpenAI field: the SDK passes unknown keys through as they are (platform-facts.md).
      ...(req.translationOptions ? { translation_options: req.translationOptions } : {}),
    };
    const { data, response } = await client.sdk.chat.completions
      .create(body, { signal: req.signal })
      .withResponse();
    const choice = data.choices[0];
    const usage = data.usage ? toUsage(data.usage, false) : null;
    if (usage) grant?.settle(usage.totalTokens);
    if (!choice)
      throw new QwenError('invalid_request', 'the completion had no choices', { model: req.model });
    return {
      text: choice.message.content ?? '',
      reasoning: '',
      finishReason: choice.finish_reason,
      usage,
      toolCalls: [],
      model: req.model,
      requestId: response.headers.get('x-request-id') ?? undefined,
    };
  } catch (err) {
    throw err instanceof QwenError ? err : toQwenError(err, req.model);
  }
}
