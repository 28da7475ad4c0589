import type OpenAI from 'openai';
import { toFile } from 'openai';
import type { FilePurpose } from 'openai/resources/files';
import { toQwenError } from './errors.ts';

/** A file DashScope keeps for qwen-long (`purpose: file-extract`). */
export interface UploadedFile {
  id: string;
  bytes: number;
}

/** What the core needs of DashScope's Files API: upload a document, delete it again. */
export interface DocumentFilesPort {
  upload(name: string, bytes: Uint8Array, signal?: AbortSignal): Promise<UploadedFile>;
  remove(id: string): Promise<void>;
}

/**
 * DashScope's OpenAI-compatible Files API through the SDK (`files.create` with purpose
 * `file-extract`, which the SDK's types do not list; `files.delete`). Failures become QwenErrors,
 * so a 404 (a region without qwen-long's Files API) reads like every other model failure.
 */
export class QwenFiles implements DocumentFilesPort {
  private readonly sdk: OpenAI;

  constructor(sdk: OpenAI) {
    this.sdk = sdk;
  }

  async upload(name: string, bytes: Uint8Array, signal?: AbortSignal): Promise<UploadedFile> {
    try {
      const file = await this.sdk.files.create(
        { file: await toFile(bytes, name), purpose: 'file-extract' as FilePurpose },
        { signal, maxRetries: 1 },
      );
      return { id: file.id, bytes: file.bytes };
    } catch (err) {
      throw toQwenError(err);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.sdk.files.delete(id);
    } catch (err) {
      const qe = toQwenError(err);
      // Already gone (deleted by hand, or by an earlier try whose answer was lost): nothing to retry.
      if (qe.status === 404) return;
      throw qe;
    }
  }
}
