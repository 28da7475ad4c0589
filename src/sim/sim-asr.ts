/**
 * The simulator's speech recognition (qwen3-asr-flash in compatible mode): a chat request whose user
 * message carries one `input_audio` part with a `data:audio/…;base64,…` URI answers with the transcript
 * as the message content, `annotations` with the detected language, and `usage.seconds`.
 *
 * There is no real recognizer: `simVoiceClip(text)` builds bytes that look like an Ogg (or MP4) file and
 * carry the transcript (and optionally a length or a fault) as a marker the simulator reads back. Audio
 * without a marker is heard as silence (an empty transcript). Bad audio gets DashScope-style 400s; the
 * messages are the simulator's own wording (DashScope's exact texts for these are not documented).
 */
import type { ServerResponse } from 'node:http';
import type { SimError } from './sim-types.ts';
import { countTokens, sendError } from './sim-wire.ts';

/** Speech models the simulator answers (their snapshots too). */
export const SIM_ASR_MODELS = /^qwen3-asr-flash(-[\w-]+)?$/;
/** DashScope's limits for qwen3-asr-flash: 10 MB of (base64) data, 5 minutes of audio. */
export const SIM_ASR_MAX_DATA_CHARS = 10 * 1024 * 1024;
export const SIM_ASR_MAX_SECONDS = 300;

const MARKER = 'qwen-sim-asr:';

export interface SimClipOptions {
  /** Recording length the simulator "hears" (default: 1 s per 15 characters, at least 1 s). */
  seconds?: number;
  /** The error the simulator answers for this clip instead of a transcript. */
  fault?: SimError;
  language?: string;
  /** Container the bytes pretend to be: Discord voice messages are Ogg, Slack clips MP4. */
  container?: 'ogg' | 'mp4';
  /** Pad the file to this many bytes (a recording's real size, for limits and benchmarks). */
  bytes?: number;
}

/** Bytes of a fake recording the simulator transcribes as `transcript`. */
export function simVoiceClip(transcript: string, options: SimClipOptions = {}): Uint8Array {
  const seconds = options.seconds ?? Math.max(1, Math.ceil(transcript.length / 15));
  const payload = Buffer.from(
    JSON.stringify({ text: transcript, seconds, fault: options.fault, language: options.language }),
  ).toString('base64url');
  const head =
    options.container === 'mp4'
      ? Buffer.from([0, 0, 0, 0x18, ...Buffer.from('ftypM4A '), 0, 0, 0, 0, ...Buffer.from('isomM4A ')])
      : Buffer.concat([Buffer.from('OggS'), Buffer.alloc(24), Buffer.from('OpusHead')]);
  const clip = Buffer.concat([head, Buffer.from(`\n${MARKER}${payload}\n`)]);
  const padding = Math.max(0, (options.bytes ?? 0) - clip.length);
  return new Uint8Array(Buffer.concat([clip, Buffer.alloc(padding, 0x4f)]));
}

interface ContentPart {
  type?: string;
  input_audio?: { data?: unknown };
}

interface AsrBody {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

function audioParts(body: AsrBody): ContentPart[] {
  return body.messages.flatMap((m) =>
    Array.isArray(m.content) ? (m.content as ContentPart[]).filter((p) => p?.type === 'input_audio') : [],
  );
}

function sniffContainer(bytes: Buffer): string | undefined {
  const at = (i: number, s: string) => bytes.subarray(i, i + s.length).toString('latin1') === s;
  if (at(0, 'OggS')) return 'ogg';
  if (at(4, 'ftyp')) return 'mp4';
  if (at(0, 'RIFF') && at(8, 'WAVE')) return 'wav';
  if (at(0, 'ID3') || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)) return 'mp3';
  if (at(0, 'fLaC')) return 'flac';
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  return undefined;
}

const bad = (message: string): SimError => ({ status: 400, code: 'invalid_parameter_error', message });

/** What the recognizer makes of the request: a transcript, or DashScope's error. */
function recognize(body: AsrBody): SimError | { text: string; seconds: number; language: string } {
  const parts = audioParts(body);
  if (parts.length !== 1) return bad('The request must contain exactly one input_audio content part.');
  const data = parts[0]?.input_audio?.data;
  if (typeof data !== 'string' || !data) return bad('input_audio.data must be a URL or a data URI.');
  if (/^https?:\/\//.test(data)) return bad('The simulator cannot download audio URLs; send a data URI.');
  if (data.length > SIM_ASR_MAX_DATA_CHARS) return bad('The audio data exceeds the limit of 10 MB.');
  const uri = /^data:(audio\/[\w.+-]+);base64,([A-Za-z0-9+/=]*)$/.exec(data);
  if (!uri) return bad('input_audio.data is not a valid data:audio/...;base64 URI.');
  const bytes = Buffer.from(uri[2] ?? '', 'base64');
  if (!sniffContainer(bytes)) return bad('The audio format is not supported.');
  const raw = bytes.toString('latin1');
  const at = raw.indexOf(MARKER);
  if (at < 0) return { text: '', seconds: 1, language: 'en' };
  const end = raw.indexOf('\n', at);
  const encoded = raw.slice(at + MARKER.length, end < 0 ? undefined : end);
  const clip = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as {
    text: string;
    seconds: number;
    fault?: SimError;
    language?: string;
  };
  if (clip.fault) return clip.fault;
  if (clip.seconds > SIM_ASR_MAX_SECONDS)
    return bad(`The audio duration exceeds the limit of ${SIM_ASR_MAX_SECONDS} seconds.`);
  const language = clip.language ?? (/[\u4e00-\u9fff]/.test(clip.text) ? 'zh' : 'en');
  return { text: clip.text, seconds: clip.seconds, language };
}

/**
 * Answers the request when it is for a speech model or carries audio (a chat model refuses audio, as
 * DashScope's do); false when it is an ordinary chat request.
 */
export function handleAsr(body: AsrBody, res: ServerResponse, requestId: string): boolean {
  const speech = SIM_ASR_MODELS.test(body.model);
  if (!speech) {
    if (audioParts(body).length === 0) return false;
    sendError(res, bad(`The model ${body.model} does not accept input_audio.`), requestId);
    return true;
  }
  const heard = recognize(body);
  if ('status' in heard) {
    sendError(res, heard, requestId);
    return true;
  }
  const id = `chatcmpl-${requestId}`;
  const created = Math.floor(Date.now() / 1000);
  const annotations = [{ type: 'audio_info', language: heard.language, emotion: 'neutral' }];
  const completion = countTokens(heard.text);
  const usage = {
    prompt_tokens: heard.seconds * 25,
    completion_tokens: completion,
    total_tokens: heard.seconds * 25 + completion,
    seconds: heard.seconds,
  };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [
          {
            index: 0,
            finish_reason: 'stop',
            message: { role: 'assistant', content: heard.text, annotations },
          },
        ],
        usage,
      }),
    );
    return true;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const frame = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    res.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices, ...extra })}\n\n`,
    );
  frame([{ index: 0, delta: { role: 'assistant', content: heard.text, annotations }, finish_reason: null }]);
  frame([{ index: 0, delta: {}, finish_reason: 'stop' }]);
  if (body.stream_options?.include_usage) frame([], { usage });
  res.end('data: [DONE]\n\n');
  return true;
}
