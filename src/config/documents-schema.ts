import { z } from 'zod';

/** DashScope's per-file limit for qwen-long documents (file-extract). */
export const DOCUMENT_MAX_BYTES = 150 * 1024 * 1024;

/** The document formats DashScope's file-extract lists for qwen-long (PPTX is not among them). */
export const DOCUMENT_TYPES = [
  'pdf',
  'docx',
  'doc',
  'xlsx',
  'xls',
  'epub',
  'mobi',
  'md',
  'markdown',
  'csv',
  'json',
  'txt',
];

export const DOCUMENTS_DEFAULTS = {
  enabled: true,
  model: 'qwen-long',
  maxBytes: DOCUMENT_MAX_BYTES,
  types: DOCUMENT_TYPES,
};

/** `documents`: long files uploaded to DashScope's Files API and answered by qwen-long. */
export const documentsSchema = z.strictObject({
  enabled: z.boolean().default(DOCUMENTS_DEFAULTS.enabled),
  model: z.string().min(1).default(DOCUMENTS_DEFAULTS.model),
  maxBytes: z.number().int().min(1).max(DOCUMENT_MAX_BYTES).default(DOCUMENT_MAX_BYTES),
  types: z
    .array(z.string().regex(/^[a-z0-9]+$/, 'a file extension without the dot, lower case'))
    .min(1)
    .default(DOCUMENT_TYPES),
});
