import type { Logger } from '../log.ts';
import type { ChatRequest, ChatResult, QwenClient, StreamEvent } from './client.ts';
import { QwenError } from './errors.ts';

/** Throttled (429, any code) or failing on DashScope's side (5xx): another model may well answer. */
export function worthAnotherModel(err: QwenError): boolean {
  if (err.status === 429 || err.code === 'rate_limited') return true;
  return err.status !== undefined && err.status >= 500;
}

/**
 * Streams the answer from the first model of `chain` that takes it: on a 429/5xx before the first token
 * the next model is asked at once (no retries on a model that has a fallback). The result's `model`
 * names the one that answered. Once a token is out, a failure is the caller's, as with one model.
 */
export async function* streamWithFallback(
  qwen: Pick<QwenClient, 'streamChat'>,
  req: Omit<ChatRequest, 'model'>,
  chain: string[],
  log?: Logger,
): AsyncGenerator<StreamEvent, ChatResult> {
  for (const [i, model] of chain.entries()) {
    const last = i === chain.length - 1;
    const stream = qwen.streamChat({ ...req, model, ...(last ? {} : { giveUpOn: worthAnotherModel }) });
    let shown = false;
    try {
      for (let next = await stream.next(); ; next = await stream.next()) {
        if (next.done) return next.value;
        if (next.value.type === 'text' || next.value.type === 'reasoning') shown = true;
        yield next.value;
      }
    } catch (err) {
      if (last || shown || !(err instanceof QwenError) || !worthAnotherModel(err) || req.signal?.aborted)
        throw err;
      log?.warn({ err: err.toLog(), next: chain[i + 1] }, 'model busy or failing; trying the fallback model');
      yield { type: 'retry', attempt: i + 1, error: err, delayMs: 0 };
    }
  }
  throw new QwenError('invalid_request', 'no model to ask');
}
