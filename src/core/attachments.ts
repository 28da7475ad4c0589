import type { Config } from '../config/schema.ts';
import { type Locale, t } from '../i18n.ts';
import type { Attachment } from './types.ts';

const TEXT_EXT =
  /\.(txt|md|markdown|csv|tsv|json|ya?ml|toml|ini|cfg|conf|log|xml|html?|css|scss|js|mjs|cjs|jsx|ts|tsx|py|rb|go|rs|java|kt|kts|scala|c|h|cc|cpp|hpp|cs|php|swift|sh|bash|zsh|ps1|sql|lua|pl|r|dart|vue|svelte|tf|dockerfile|gradle|proto)$/i;

export interface PreparedAttachments {
  /** data: URIs of images, MIME checked against the bytes. */
  images: string[];
  /** File contents to append to the user's message for the model. */
  fileText: string;
  /** One line per skipped file, shown to the user with the answer. */
  notes: string[];
}

/** Sniffs the image type from its first bytes; the MIME sent must match the bytes. */
export function sniffImage(bytes: Uint8Array): string | undefined {
  const b = (i: number) => bytes[i] ?? -1;
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'image/png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'image/jpeg';
  if (b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46) return 'image/gif';
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45)
    return 'image/webp';
  if (b(0) === 0x42 && b(1) === 0x4d) return 'image/bmp';
  return undefined;
}

export function isImage(a: Attachment): boolean {
  return a.mime.startsWith('image/') || /\.(png|jpe?g|gif|webp|bmp)$/i.test(a.name);
}

export function isText(a: Attachment): boolean {
  return a.mime.startsWith('text/') || a.mime === 'application/json' || TEXT_EXT.test(a.name);
}

/** Loads what the model can use; everything else gets a one-line note. Never throws. */
export async function prepareAttachments(
  attachments: Attachment[],
  limits: Config['attachments'],
  locale: Locale,
): Promise<PreparedAttachments> {
  const images: string[] = [];
  const texts: string[] = [];
  const notes: string[] = [];
  const skip = (name: string, why: string) => notes.push(t(locale, 'file.skipped', { name, why }));
  // Every text file of the message draws on one budget: it goes to the model and into history.
  const budget = limits.maxTurnChars;
  let left = budget;
  for (const a of attachments) {
    try {
      if (isImage(a)) {
        if (images.length >= limits.maxImages) skip(a.name, `more than ${limits.maxImages} images`);
        else if (a.size > limits.maxImageBytes)
          skip(a.name, `over ${Math.round(limits.maxImageBytes / 1048576)} MB`);
        else {
          const bytes = await a.load();
          const mime = sniffImage(bytes);
          if (!mime) skip(a.name, 'not a supported image');
          else if (bytes.byteLength > limits.maxImageBytes) skip(a.name, 'too large');
          else images.push(`data:${mime};base64,${Buffer.from(bytes).toString('base64')}`);
        }
      } else if (isText(a)) {
        if (a.size > limits.maxTextFileBytes) skip(a.name, `over ${limits.maxTextFileBytes} bytes`);
        else if (left <= 0) notes.push(t(locale, 'file.over_budget', { name: a.name, max: budget }));
        else {
          const bytes = await a.load();
          const text = new TextDecoder('utf-8', { fatal: false }).decode(
            bytes.subarray(0, limits.maxTextFileBytes),
          );
          if (text.includes('\u0000')) skip(a.name, 'binary content');
          else {
            const kept = cutAt(text, left);
            const cut = kept.length < text.length;
            // A cut file spends the rest of the budget: nothing after it is read.
            left = cut ? 0 : left - kept.length;
            if (kept.length === 0) notes.push(t(locale, 'file.over_budget', { name: a.name, max: budget }));
            else {
              if (cut) notes.push(t(locale, 'file.cut', { name: a.name, chars: kept.length, max: budget }));
              const header = cut ? `[file ${a.name}, first ${kept.length} characters]` : `[file ${a.name}]`;
              texts.push(`${header}\n\`\`\`\n${kept.replace(/```/g, '`\u200b``')}\n\`\`\``);
            }
          }
        }
      } else {
        skip(a.name, 'unsupported file type');
      }
    } catch (err) {
      skip(a.name, `could not be read (${(err as Error).message})`);
    }
  }
  return { images, fileText: texts.join('\n\n'), notes };
}

/** The first `max` UTF-16 units of `text`, never splitting a surrogate pair. */
function cutAt(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
