/**
 * Fetching an attachment's bytes for the core, the same way on every platform: one deadline for the
 * whole download (headers and body), and a byte limit checked against the declared length and again
 * while the body streams, so a huge or stalled file never sits in memory or holds the answer.
 */

/** Over the byte limit (declared or counted); the message is the note the user sees. */
export class AttachmentTooLargeError extends Error {
  readonly code = 'attachment_too_large';
  constructor(limit: number) {
    super(`attachment is larger than ${limit} bytes`);
  }
}

/** A download that ran past its deadline (headers or body); the message is the note the user sees. */
export class DownloadTimeoutError extends Error {
  readonly code = 'download_timeout';
  constructor(timeoutMs: number) {
    super(`download timed out after ${timeoutMs / 1000} s`);
  }
}

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Request headers (a platform token). */
  headers?: Record<string, string>;
  /** Refuses a response before its body is read (a platform's login page instead of the file). */
  check?: (res: Response) => void;
}

export async function downloadLimited(url: string | URL, limits: DownloadLimits): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    return await fetchLimited(url, limits, signal);
  } catch (err) {
    if (signal.aborted) throw new DownloadTimeoutError(limits.timeoutMs);
    throw err;
  }
}

async function fetchLimited(url: string | URL, limits: DownloadLimits, signal: AbortSignal) {
  const res = await fetch(url, { signal, ...(limits.headers ? { headers: limits.headers } : {}) });
  try {
    if (!res.ok) throw new Error(`attachment download failed: HTTP ${res.status}`);
    limits.check?.(res);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > limits.maxBytes) throw new AttachmentTooLargeError(limits.maxBytes);
  } catch (err) {
    await res.body?.cancel().catch(() => undefined);
    throw err;
  }
  if (!res.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += chunk.byteLength;
    if (total > limits.maxBytes) throw new AttachmentTooLargeError(limits.maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
