/**
 * Speech to text through DashScope's compatible mode: a chat completion to a speech model
 * (qwen3-asr-flash) whose one user message carries the audio as an `input_audio` part with a data: URI,
 * and `asr_options` as a top-level key. The transcript is the answer's content.
 */
import type { Logger } from '../log.ts';
import { abortableSleep, type QwenClient, retryDelay } from './client.ts';
import { QwenError, toQwenError } from './errors.ts';

export interface TranscribeRequest {
  bytes: Uint8Array;
  /** MIME type of the audio (audio/ogg for Discord voice messages, audio/mp4 for Slack clips). */
  mime: string;
  /** Recording length when the platform reported it (reserves capacity in the account's limiter). */
  seconds?: number;
  signal?: AbortSignal;
}

export interface Transcript {
  text: string;
  /** Language DashScope detected (`annotations[].language`), when it said. */
  language?: string;
  /** Seconds of audio billed (`usage.seconds`), when reported. */
  seconds?: number;
  requestId?: string;
}

/** What the core asks of a speech model. */
export interface Transcriber {
  transcribe(req: TranscribeRequest): Promise<Transcript>;
}

export interface QwenTranscriberOptions {
  model: string;
  /** asr_options.language; null lets the model detect it. */
  language: string | null;
  retries: number;
  retryBaseDelayMs: number;
  timeoutMs: number;
  log?: Logger;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface AsrCompletion {
  choices?: Array<{ message?: { content?: string | null; annotations?: Array<{ language?: string }> } }>;
  usage?: { seconds?: number; total_tokens?: number };
}

export class QwenTranscriber implements Transcriber {
  private readonly client: QwenClient;
  private readonly opts: QwenTranscriberOptions;

  constructor(client: QwenClient, opts: QwenTranscriberOptions) {
    this.client = client;
    this.opts = opts;
  }

  async transcribe(req: TranscribeRequest): Promise<Transcript> {
    const { model } = this.opts;
    const data = `data:${req.mime};base64,${Buffer.from(req.bytes).toString('base64')}`;
    const body = {
      model,
      messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data } }] }],
      stream: false,
      // DashScope's extension travels as a top-level key (the SDK passes unknown keys through).
      asr_options: { enable_itn: false, ...(this.opts.language ? { language: this.opts.language } : {}) },
    };
    const sleep = this.opts.sleep ?? abortableSleep;
    for (let attempt = 0; ; attempt++) {
      const deadline = AbortSignal.timeout(this.opts.timeoutMs);
      try {
        // About 25 tokens a second of audio, as DashScope counts audio input.
        const tokens = Math.ceil((req.seconds ?? 60) * 25);
        const grant = await this.client.limits?.acquire(model, { tokens, signal: req.signal });
        const signal = AbortSignal.any([deadline, ...(req.signal ? [req.signal] : [])]);
        const { data: completion, response } = await this.client.sdk.chat.completions
          .create(body as never, { signal })
          .withResponse();
        const answer = completion as unknown as AsrCompletion;
        if (answer.usage?.total_tokens !== undefined) grant?.settle(answer.usage.total_tokens);
        const message = answer.choices?.[0]?.message;
        const language = message?.annotations?.find((a) => a.language)?.language;
        const requestId = response.headers.get('x-request-id') ?? undefined;
        return {
          text: (message?.content ?? '').trim(),
          ...(language ? { language } : {}),
          ...(answer.usage?.seconds !== undefined ? { seconds: answer.usage.seconds } : {}),
          ...(requestId ? { requestId } : {}),
        };
      } catch (raw) {
        const err =
          deadline.aborted && !req.signal?.aborted
            ? new QwenError('timeout', `no transcript within ${this.opts.timeoutMs} ms`, {
                model,
                cause: raw,
              })
            : toQwenError(raw, model);
        const delayMs = retryDelay(err, attempt, this.opts.retryBaseDelayMs);
        if (!err.retryable || attempt >= this.opts.retries || delayMs === undefined || req.signal?.aborted)
          throw err;
        this.opts.log?.warn(
          { err: err.toLog(), attempt: attempt + 1, delayMs },
          'transcription failed; retrying',
        );
        await sleep(delayMs, req.signal);
      }
    }
  }
}
