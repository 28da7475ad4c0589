/**
 * The simulator's Files API (OpenAI-compatible, as qwen-long uses it): `POST /files` (multipart,
 * `purpose=file-extract`), `GET /files/:id`, `DELETE /files/:id`, and what a chat request's
 * `fileid://` system message refers to. Text is "extracted" cheaply: the strings of a PDF's `Tj`
 * operators, the UTF-8 text of anything else. Uploads and deletions are recorded for tests.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { SimError } from './sim-types.ts';
import { sendError } from './sim-wire.ts';

/** The formats DashScope's file-extract lists for qwen-long (documents and images). */
const EXTRACTABLE = /\.(txt|docx?|pdf|xlsx?|epub|mobi|md|csv|json|bmp|png|jpe?g|gif)$/i;
/** DashScope's per-file limit for documents. */
export const SIM_FILE_MAX_BYTES = 150 * 1024 * 1024;

export interface SimFile {
  id: string;
  filename: string;
  bytes: number;
  text: string;
  createdAt: number;
}

export interface SimFilesOptions {
  /** false: the region has no Files API (every /files path answers 404), like outside Beijing. */
  enabled?: boolean;
}

export class SimFiles {
  readonly stored = new Map<string, SimFile>();
  /** Every accepted upload, in order (ids stay listed after a deletion). */
  readonly uploads: SimFile[] = [];
  /** Ids deleted, in order. */
  readonly deletes: string[] = [];
  /** Scripted failures for the next DELETE requests (e.g. a 500 to test retries). */
  readonly deleteFailures: SimError[] = [];
  /** Uploads wait for this before answering (a test decides when they finish). */
  uploadHold: Promise<unknown> | undefined;
  private seq = 0;
  private readonly enabled: boolean;

  constructor(options: SimFilesOptions = {}) {
    this.enabled = options.enabled ?? true;
  }

  static handles(url: string | undefined): boolean {
    return /\/compatible-mode\/v1\/files(\/|\?|$)/.test(url ?? '');
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    authorized: boolean,
  ): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!authorized) {
      req.resume();
      const refused = { status: 401, code: 'invalid_api_key', message: 'Incorrect API key provided.' };
      return sendError(res, refused, requestId);
    }
    if (!this.enabled) {
      req.resume();
      return sendError(
        res,
        { status: 404, code: 'NotFound', message: `no route ${req.method} ${path}` },
        requestId,
      );
    }
    const id = path.match(/\/files\/([^/]+)$/)?.[1];
    if (req.method === 'POST' && !id) return this.upload(req, res, requestId);
    req.resume();
    const file = id ? this.stored.get(id) : undefined;
    if (!id || !file) {
      return sendError(
        res,
        { status: 404, code: 'invalid_parameter_error', message: `File not found: ${id ?? ''}` },
        requestId,
      );
    }
    if (req.method === 'GET') return json(res, describe(file));
    if (req.method === 'DELETE') {
      const failure = this.deleteFailures.shift();
      if (failure) return sendError(res, failure, requestId);
      this.stored.delete(id);
      this.deletes.push(id);
      return json(res, { id, object: 'file', deleted: true });
    }
    sendError(res, { status: 405, code: 'method_not_allowed', message: 'method not allowed' }, requestId);
  }

  /** The files a chat request refers to, or the error DashScope answers for an id it does not know. */
  referenced(messages: Array<{ role: string; content: unknown }>): SimFile[] | SimError {
    const found: SimFile[] = [];
    for (const m of messages) {
      if (m.role !== 'system' || typeof m.content !== 'string' || !m.content.startsWith('fileid://'))
        continue;
      for (const ref of m.content.split(',')) {
        const id = ref.trim().replace(/^fileid:\/\//, '');
        const file = this.stored.get(id);
        // Said "unsure" in platform-facts: DashScope answers 400 for an id that is not (or no longer) there.
        if (!file)
          return { status: 400, code: 'invalid_parameter_error', message: `File [id:${id}] not found.` };
        found.push(file);
      }
    }
    return found;
  }

  /** The simulator's answer from documents: names each file and quotes the start of its text. */
  static answer(files: SimFile[], question: string): string {
    const quotes = files.map((f) => `${f.filename}: "${f.text.slice(0, 120)}"`);
    return `From ${quotes.join('; ')} — about "${question.split('\n')[0]}".`;
  }

  private async upload(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    let form: FormData;
    try {
      const body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
      form = await new Request('http://sim/files', {
        method: 'POST',
        headers,
        body,
        duplex: 'half',
      }).formData();
    } catch {
      return sendError(res, {
        status: 400,
        code: 'invalid_parameter_error',
        message: 'multipart body expected',
      });
    }
    const file = form.get('file');
    if (form.get('purpose') !== 'file-extract' || !(file instanceof File)) {
      return sendError(
        res,
        {
          status: 400,
          code: 'invalid_parameter_error',
          message: 'purpose must be file-extract, with a file',
        },
        requestId,
      );
    }
    if (!EXTRACTABLE.test(file.name)) {
      return sendError(
        res,
        { status: 400, code: 'invalid_parameter_error', message: `Unsupported file type: ${file.name}` },
        requestId,
      );
    }
    if (file.size > SIM_FILE_MAX_BYTES) {
      return sendError(
        res,
        { status: 400, code: 'invalid_parameter_error', message: 'File size exceeds the limit (150 MB).' },
        requestId,
      );
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    await this.uploadHold;
    const stored: SimFile = {
      id: `file-fe-sim${++this.seq}`,
      filename: file.name,
      bytes: bytes.byteLength,
      text: extract(file.name, bytes),
      createdAt: Math.floor(Date.now() / 1000),
    };
    this.stored.set(stored.id, stored);
    this.uploads.push(stored);
    json(res, describe(stored));
  }
}

function describe(f: SimFile): Record<string, unknown> {
  return {
    id: f.id,
    object: 'file',
    bytes: f.bytes,
    created_at: f.createdAt,
    filename: f.filename,
    purpose: 'file-extract',
    status: 'processed',
  };
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A stand-in for DashScope's parser: the strings a PDF draws (`(…) Tj`), else the bytes as UTF-8. */
function extract(name: string, bytes: Uint8Array): string {
  const raw = Buffer.from(bytes).toString('latin1');
  if (/\.pdf$/i.test(name)) {
    const drawn = [...raw.matchAll(/\(((?:[^()\\]|\\.)*)\)\s*Tj/g)].map((m) => m[1] ?? '');
    return drawn.join(' ');
  }
  return new TextDecoder().decode(bytes.subarray(0, 100_000));
}
