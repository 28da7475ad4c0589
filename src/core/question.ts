/**
 * The question one answer responds to, made from what arrived: a message the asker replied to comes in
 * as a quote ("<author> wrote: …", its images and files with the message's own), and messages one person
 * sent back to back (debounce.ts) become one question, texts joined in order.
 */
import { type Locale, t } from '../i18n.ts';
import type { IncomingMessage, QuotedMessage } from './types.ts';

/** `Alice wrote:` and the quoted lines, each behind `> `, so the model reads it as someone else's words. */
export function quoteBlock(quoted: QuotedMessage): string {
  const lines = quoted.text ? quoted.text.split('\n').map((line) => `> ${line}`) : [];
  return [`${quoted.author} wrote:`, ...lines].join('\n');
}

/** The message with its quote folded into the text and attachments (the quote's first). */
function withQuote(message: IncomingMessage, locale: Locale): IncomingMessage {
  const { quoted, quoteUnreadable, ...rest } = message;
  const notes = [...(message.notes ?? [])];
  if (quoteUnreadable) notes.push(t(locale, 'quote.unreadable'));
  const withNotes = notes.length ? { notes } : {};
  if (!quoted) return { ...rest, ...withNotes };
  // A quoted voice message alone is quoted by its transcript (voice.ts), not by an empty "wrote:".
  const voiceOnly = !quoted.text && quoted.attachments.length > 0 && quoted.attachments.every((a) => a.voice);
  const text = [voiceOnly ? '' : quoteBlock(quoted), message.text].filter(Boolean).join('\n\n');
  // A quoted recording is the quoted person's words: its transcript is attributed to them (voice.ts).
  const theirs = quoted.attachments.map((a) =>
    a.voice ? { ...a, voice: { ...a.voice, author: quoted.author } } : a,
  );
  return { ...rest, ...withNotes, text, attachments: [...theirs, ...message.attachments] };
}

/**
 * One question from one person's messages, oldest first: texts joined by line breaks, attachments and
 * notes merged. The answer replies to the last message, so it takes the last message's id.
 */
export function composeQuestion(messages: IncomingMessage[], locale: Locale): IncomingMessage {
  const parts = messages.map((m) => withQuote(m, locale));
  const last = parts.at(-1);
  if (!last) throw new Error('a question needs at least one message');
  if (parts.length === 1) return last;
  const notes = parts.flatMap((p) => p.notes ?? []);
  return {
    ...last,
    text: parts
      .map((p) => p.text)
      .filter(Boolean)
      .join('\n'),
    attachments: parts.flatMap((p) => p.attachments),
    ...(notes.length ? { notes } : {}),
  };
}
