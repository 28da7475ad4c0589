import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { type Locale, t } from '../i18n.ts';
import type { Logger } from '../log.ts';
import { QwenError } from '../qwen/errors.ts';
import { isImage, isText } from './attachments.ts';
import type { DocumentRecord, DocumentStore } from './documents.ts';
import type { ReplyStreamer } from './streamer.ts';
import type { Attachment } from './types.ts';

export interface SplitAttachments {
  /** Files for the Files API (uploaded when the answer starts, with a status line). */
  documents: Attachment[];
  /** Everything else takes today's path (images, small text files inline). */
  rest: Attachment[];
  /** One line per file that cannot be a document (type, size). */
  notes: string[];
}

/** "2.3 MB", "840 KB", "512 B". */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/**
 * Which attachments are documents: every file of a listed type that is not plain text, and text files
 * (Markdown, CSV, JSON, …) larger than the inline budget (`attachments.maxTurnChars`). Images and
 * small text files keep the inline path; any other file gets the "cannot be read" line.
 */
export function splitDocuments(attachments: Attachment[], config: Config, locale: Locale): SplitAttachments {
  const cfg = config.documents;
  if (!cfg.enabled) return { documents: [], rest: attachments, notes: [] };
  const documents: Attachment[] = [];
  const rest: Attachment[] = [];
  const notes: string[] = [];
  for (const a of attachments) {
    const listed = cfg.types.includes(extensionOf(a.name));
    // Recordings are the voice path's (src/core/voice.ts), whatever their name says.
    if (a.voice || isImage(a) || (isText(a) && (!listed || a.size <= config.attachments.maxTurnChars)))
      rest.push(a);
    else if (!listed)
      notes.push(t(locale, 'documents.unsupported', { name: a.name, types: cfg.types.join(', ') }));
    else if (a.size > cfg.maxBytes)
      notes.push(
        t(locale, 'documents.too_large', {
          name: a.name,
          size: formatSize(a.size),
          max: formatSize(cfg.maxBytes),
        }),
      );
    else documents.push(a);
  }
  return { documents, rest, notes };
}

export interface AttachDocuments {
  config: Config;
  conversation: string;
  pending: Attachment[];
  authorId: string;
  locale: Locale;
  streamer: ReplyStreamer;
  signal: AbortSignal;
  now: () => number;
  log: Logger;
  /** The conversation's list as the question's batched read found it; undefined: read it here. */
  existing?: DocumentRecord[];
  /** Whether the question is still in the history (false after a `/reset` while it uploaded). */
  stillAsked: () => Promise<boolean>;
  /** Runs the list's update in the conversation's turn. */
  inTurn: <T>(conversation: string, task: (lost?: AbortSignal) => Promise<T>) => Promise<T>;
}

/**
 * Uploads the question's new documents (one status line each while it uploads; a file whose hash the
 * conversation already has is not uploaded again), then returns the conversation's documents as they
 * stand in its turn (an earlier `/docs clear` or `/reset` is respected), with a line per failure.
 */
export async function attachDocuments(
  docs: DocumentStore,
  p: AttachDocuments,
): Promise<{ docs: DocumentRecord[]; notes: string[] }> {
  const { locale } = p;
  const existing = p.existing ?? (await docs.list(p.conversation));
  const added: DocumentRecord[] = [];
  const notes: string[] = [];
  for (const a of p.pending) {
    const name = a.name;
    let bytes: Uint8Array;
    try {
      bytes = await a.load();
    } catch (err) {
      notes.push(t(locale, 'documents.failed', { name, why: (err as Error).message }));
      continue;
    }
    if (bytes.byteLength > p.config.documents.maxBytes) {
      const max = formatSize(p.config.documents.maxBytes);
      notes.push(t(locale, 'documents.too_large', { name, size: formatSize(bytes.byteLength), max }));
      continue;
    }
    const hash = createHash('sha256').update(bytes).digest('hex');
    if ([...existing, ...added].some((d) => d.hash === hash)) continue;
    const shown = p.streamer.showStatus(
      t(locale, 'documents.reading', { name, size: formatSize(bytes.byteLength) }),
    );
    try {
      const file = await docs.port.upload(name, bytes, p.signal);
      added.push({ hash, fileId: file.id, name, bytes: bytes.byteLength, at: p.now(), authorId: p.authorId });
    } catch (err) {
      if (err instanceof QwenError && err.code === 'aborted') throw err;
      notes.push(uploadFailureLine(err, name, p.config, locale));
      p.log.warn(
        { err: err instanceof QwenError ? err.toLog() : err, file: name },
        'documents: upload failed',
      );
    }
    await shown;
  }
  if (!added.length && !existing.length) return { docs: [], notes };
  // Re-read in the turn: also keeps the list (and its files at DashScope) for another retention period.
  const current = await p.inTurn(p.conversation, async () => {
    if (!added.length || (await p.stillAsked())) return docs.add(p.conversation, added);
    // Reset while it uploaded: the new files belong to no conversation any more.
    await docs.forget(added.map((d) => d.fileId));
    return docs.list(p.conversation);
  });
  return { docs: current, notes };
}

function uploadFailureLine(err: unknown, name: string, config: Config, locale: Locale): string {
  if (err instanceof QwenError && (err.status === 404 || err.code === 'endpoint_not_found'))
    return t(locale, 'documents.unavailable', { name, model: config.documents.model });
  const why = err instanceof QwenError ? err.userMessage(locale).replace(/\.$/, '') : (err as Error).message;
  return t(locale, 'documents.failed', { name, why });
}

/** A chat refused because the documents model is not offered here (404): the line says so. */
export function documentsModelLine(err: unknown, docs: DocumentRecord[], config: Config, locale: Locale) {
  if (!docs.length || !(err instanceof QwenError) || err.status !== 404) return undefined;
  const names = docs.map((d) => d.name).join(', ');
  return `⚠️ ${t(locale, 'documents.unavailable', { name: names, model: config.documents.model })}`;
}

/** The system message that points qwen-long at the documents (several ids, comma-separated). */
export function fileIdMessage(docs: DocumentRecord[]): string {
  return docs.map((d) => `fileid://${d.fileId}`).join(',');
}
