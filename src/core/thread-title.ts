/**
 * A short title for a conversation from its first question and answer, written by a cheap model (Slack's
 * assistant threads show it in the thread list). Platform-free: the adapter decides when to ask.
 */
import type { Locale } from '../i18n.ts';
import type { QwenClient } from '../qwen/client.ts';

/** Writes a title, or resolves undefined when the model gave nothing usable. */
export type TitleWriter = (question: string, answer: string, locale: Locale) => Promise<string | undefined>;

const TITLE_MAX = 60;
const LANGUAGE: Record<Locale, string> = { en: 'English', zh: 'Chinese' };

export function createTitleWriter(qwen: QwenClient, model: string, timeoutMs = 20_000): TitleWriter {
  return async (question, answer, locale) => {
    const instruction =
      `Write a title of at most 6 words, in ${LANGUAGE[locale]}, for a conversation that starts with ` +
      'the question and answer below. Reply with the title alone: no quotes, no final period.';
    const stream = qwen.streamChat({
      model,
      messages: [
        { role: 'system', content: instruction },
        {
          role: 'user',
          content: `Question: ${question.slice(0, 2000)}\n\nAnswer: ${answer.slice(0, 2000)}`,
        },
      ],
      maxTokens: 40,
      enableThinking: false,
      signal: AbortSignal.timeout(timeoutMs),
    });
    let text = '';
    for (;;) {
      const next = await stream.next();
      if (next.done) {
        text = next.value.text || text;
        break;
      }
      if (next.value.type === 'text') text += next.value.text;
    }
    return cleanTitle(text);
  };
}

/** One line, no wrapping quotes or trailing period, at most TITLE_MAX characters. */
export function cleanTitle(raw: string): string | undefined {
  const line = (raw.trim().split('\n')[0] ?? '')
    .replace(/^(title:\s*)/i, '')
    .replace(/^["'“”‘’「」《》*]+|["'“”‘’「」《》*]+$/g, '')
    .replace(/[.。]+$/, '')
    .trim();
  if (!line) return undefined;
  return line.length > TITLE_MAX ? `${line.slice(0, TITLE_MAX - 1).trimEnd()}…` : line;
}
