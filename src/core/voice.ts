/**
 * Voice messages: a recording in the question (a Discord voice message, a Slack audio clip) is
 * transcribed by the speech model before the question is stored, and the transcript becomes the user's
 * text — what the chat model reads and history keeps; the audio itself is never stored. The reply
 * quotes the transcript above the answer. A recording that is too long or too large, cannot be
 * downloaded or transcribed gets one clear line instead (and a log line); when the message carried
 * something else to answer (typed text, other files), that is answered, with the line as a note.
 */
import type { Config } from '../config/schema.ts';
import { type Locale, t } from '../i18n.ts';
import type { Logger } from '../log.ts';
import { QwenError } from '../qwen/errors.ts';
import type { Transcriber } from '../qwen/transcribe.ts';
import { withHeading } from './headed-surface.ts';
import type { TurnOutcome } from './service.ts';
import type { Attachment, IncomingMessage, ReplySurface } from './types.ts';

export interface VoiceDeps {
  config: Config['voice'];
  /** Undefined: no speech model wired (core tests); recordings are then treated as with voice off. */
  transcriber?: Transcriber;
}

/** The question ready to answer (its text holds the transcripts; the reply quotes them), or the outcome. */
export type Heard = { message: IncomingMessage; surface: ReplySurface } | { outcome: TurnOutcome };

/** `m:ss`, the way people read a recording's length. */
export function formatLength(seconds: number): string {
  const whole = Math.ceil(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

/** The transcript on one line, cut at `max` characters (the model still reads all of it). */
export function quoteTranscript(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  return `${line.slice(0, max - 1).trimEnd()}…`;
}

interface Failure {
  line: string;
  reason: string;
  /** Set for a failed model call: the outcome is an error, not a refusal. */
  errorCode?: string;
}

type Listened = { transcript: string } | Failure;

interface Transcribed {
  text: string;
  /** Whose recording it is, when it came with a quoted message. */
  author?: string;
}

export async function hearVoice(
  deps: VoiceDeps,
  message: IncomingMessage,
  surface: ReplySurface,
  locale: Locale,
  log: Logger,
): Promise<Heard> {
  const recordings = message.attachments.filter((a) => a.voice);
  if (recordings.length === 0) return { message, surface };
  const others = message.attachments.filter((a) => !a.voice);
  const failures: Failure[] = [];
  const transcripts: Transcribed[] = [];
  if (!deps.config.enabled || !deps.transcriber) {
    failures.push({ line: t(locale, 'voice.off'), reason: 'voice off' });
  } else {
    // The person waits for the transcription before anything is posted.
    surface.showTyping?.().catch(() => undefined);
    for (const recording of recordings) {
      const heard = await listen(deps, deps.transcriber, recording, locale, log);
      const author = recording.voice?.author;
      if ('transcript' in heard) transcripts.push({ text: heard.transcript, ...(author ? { author } : {}) });
      else failures.push(heard);
    }
  }
  const lines = failures.map((f) => f.line);
  if (transcripts.length === 0 && !message.text.trim() && others.length === 0 && !message.quoted) {
    const first = failures[0] ?? { line: t(locale, 'voice.empty'), reason: 'no transcript' };
    const line = lines.join('\n') || first.line;
    await surface.post(line).catch((err: unknown) => log.warn({ err }, 'could not deliver the voice line'));
    if (first.errorCode)
      return {
        outcome: {
          status: 'error',
          text: '',
          model: deps.config.model,
          errorCode: first.errorCode,
          errorLine: line,
        },
      };
    return { outcome: { status: 'refused', reason: first.reason, line } };
  }
  // A quoted person's recording comes first, as their words; then the asker's text and recordings.
  const theirs = transcripts
    .filter((x) => x.author)
    .map((x) => `${x.author} said in a voice message:\n${x.text.replace(/^/gm, '> ')}`);
  const own = transcripts.filter((x) => !x.author).map((x) => x.text);
  const text = [...theirs, message.text, ...own].filter((part) => part.trim()).join('\n\n');
  const notes = [...(message.notes ?? []), ...lines];
  const heard: IncomingMessage = {
    ...message,
    text,
    attachments: others,
    ...(notes.length ? { notes } : {}),
  };
  if (transcripts.length === 0) return { message: heard, surface };
  const heading = transcripts
    .map((x) => {
      const line = quoteTranscript(x.text, deps.config.quoteChars);
      return t(locale, 'voice.heading', { transcript: x.author ? `${x.author}: ${line}` : line });
    })
    .join('\n');
  return { message: heard, surface: withHeading(surface, heading) };
}

/** One recording: limits first (nothing downloaded past them), then the download and the speech model. */
async function listen(
  deps: VoiceDeps,
  transcriber: Transcriber,
  recording: Attachment,
  locale: Locale,
  log: Logger,
): Promise<Listened> {
  const { maxSeconds, maxBytes, model } = deps.config;
  const seconds = recording.voice?.seconds;
  const tooBig = (size: number): Failure => ({
    line: t(locale, 'voice.too_big', { size: megabytes(size), max: megabytes(maxBytes) }),
    reason: 'voice message too large',
  });
  if (seconds !== undefined && seconds > maxSeconds) {
    log.info({ seconds, maxSeconds }, 'voice message too long; not transcribed');
    return {
      line: t(locale, 'voice.too_long', { length: formatLength(seconds), max: formatLength(maxSeconds) }),
      reason: 'voice message too long',
    };
  }
  if (recording.size > maxBytes) return tooBig(recording.size);
  let bytes: Uint8Array;
  try {
    bytes = await recording.load();
  } catch (err) {
    log.warn({ err, name: recording.name }, 'voice message could not be downloaded');
    const why =
      (err as { code?: string }).code === 'attachment_too_large' ? 'too large' : (err as Error).message;
    return { line: t(locale, 'voice.unreadable', { why }), reason: 'voice message unreadable' };
  }
  if (bytes.byteLength > maxBytes) return tooBig(bytes.byteLength);
  const startedAt = Date.now();
  try {
    const heard = await transcriber.transcribe({
      bytes,
      mime: audioMime(recording),
      ...(seconds !== undefined ? { seconds } : {}),
    });
    log.info(
      {
        model,
        ms: Date.now() - startedAt,
        bytes: bytes.byteLength,
        seconds: heard.seconds ?? seconds,
        language: heard.language,
        chars: heard.text.length,
        requestId: heard.requestId,
      },
      'voice message transcribed',
    );
    if (!heard.text) return { line: t(locale, 'voice.empty'), reason: 'no words heard' };
    return { transcript: heard.text };
  } catch (err) {
    const qe = err instanceof QwenError ? err : undefined;
    log.warn(qe ? { qwen: qe.toLog() } : { err }, 'voice message could not be transcribed');
    const why = qe ? qe.userMessage(locale) : t(locale, 'error.internal');
    return {
      line: t(locale, 'voice.failed', { why }),
      reason: 'transcription failed',
      errorCode: `voice_${qe?.code ?? 'internal'}`,
    };
  }
}

/** The MIME sent with the audio: what the platform said, made an audio/ type (Slack labels clips video/mp4). */
function audioMime(recording: Attachment): string {
  const mime = recording.mime.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mime.startsWith('audio/')) return mime;
  if (mime === 'video/mp4' || /\.(mp4|m4a)$/i.test(recording.name)) return 'audio/mp4';
  if (/\.og[ga]$/i.test(recording.name)) return 'audio/ogg';
  return mime || 'audio/ogg';
}

function megabytes(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}
