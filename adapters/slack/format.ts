/**
 * Model Markdown → what Slack gets. Plain messages (`chat.postMessage`/`chat.update` `text`) use mrkdwn,
 * produced by slackify-markdown; native streams take standard Markdown (`markdown_text`) as it is.
 * Both paths neutralise mentions the model wrote: broadcast (`<!channel>`, `<!here>`, `<!everyone>`,
 * `@channel`…), user (`<@U…>`), user group (`<!subteam^…>`) and channel (`<#C…>`) references.
 */
import { slackifyMarkdown } from 'slackify-markdown';
import { closesFence, fenceLine } from '../../src/core/fences.ts';

/** Invisible separator that stops Slack from reading `@here` or `<!here>` as a mention. */
const ZWSP = '\u200b';
const BROADCAST_WORDS = /@(channel|here|everyone)\b/gi;
/** Links slackify-markdown produces (and the only `<…>` sequences we let through in mrkdwn). */
const ALLOWED_SEQUENCE = /^<(?:https?:\/\/|mailto:)[^<>|\s]*(?:\|[^<>]*)?>$/i;

/** Standard Markdown → Slack mrkdwn with every mention the model wrote made harmless. */
export function toMrkdwn(markdown: string): string {
  if (!markdown.trim()) return markdown;
  let converted: string;
  try {
    converted = slackifyMarkdown(escapeInnerFences(limitNesting(markdown))).replace(/\n+$/, '');
  } catch {
    // The converter recurses per nesting level; whatever still defeats it is shown as plain text
    // rather than never delivered.
    converted = markdown.replace(/&/g, '&amp;');
  }
  return neutraliseMrkdwn(converted);
}

/** Quote and list levels the converter gets on one line; Slack shows no more than a few anyway. */
export const MAX_NESTING = 16;
/** One container marker at a line's start: a quote `>` or a list bullet / number followed by space. */
const CONTAINER = /[ \t]*(?:>|(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$))[ \t]?/y;

/**
 * slackify-markdown recurses once per nesting level and overflows the stack near a thousand levels
 * (`- - - - …`, `>>>>…`), which one message can hold. Lines outside code blocks keep their first
 * MAX_NESTING container markers; deeper ones are dropped, the text after them kept.
 */
export function limitNesting(markdown: string): string {
  let fence: string | null = null;
  return markdown
    .split('\n')
    .map((line) => {
      const m = fenceLine(line);
      if (fence === null && m) fence = m.marker;
      else if (fence !== null && closesFence(m, fence)) fence = null;
      else if (fence === null) return flattenLine(line);
      return line;
    })
    .join('\n');
}

function flattenLine(line: string): string {
  let at = 0;
  let depth = 0;
  let kept = 0;
  for (;;) {
    CONTAINER.lastIndex = at;
    const m = CONTAINER.exec(line);
    if (!m || m[0].length === 0) break;
    at += m[0].length;
    depth++;
    if (depth === MAX_NESTING) kept = at;
  }
  if (depth <= MAX_NESTING) return line;
  const head = line.slice(0, kept);
  return `${head}${/[ \t]$/.test(head) ? '' : ' '}${line.slice(at)}`;
}

/**
 * Inside a code block Markdown shows a line like "```js" as text, but Slack ends its preformatted
 * block at any triple backtick: such text gets a zero-width space ("`\u200b``"), as attached files do.
 * So does a line outside a block that starts with backticks but is no fence ("```js `x`").
 */
export function escapeInnerFences(markdown: string): string {
  let open: string | null = null;
  return markdown
    .split('\n')
    .map((line) => {
      const m = fenceLine(line);
      if (open === null) {
        if (m) open = m.marker;
        // "```js `x`" is inline code to Markdown, but Slack would open a preformatted block at it.
        else if (/^ {0,3}```/.test(line)) return line.replace(/```/g, '`\u200b``');
        return line;
      }
      if (closesFence(m, open)) {
        open = null;
        return line;
      }
      return line.replace(/```/g, '`\u200b``');
    })
    .join('\n');
}

/**
 * In mrkdwn, `<…>` is a control sequence (mention, channel, date, link). Keeps links; every other `<`
 * becomes `&lt;`, which Slack shows as a plain `<` and never parses. Plain `@here`-style words get a
 * zero-width space so no client or `link_names` setting turns them into a broadcast.
 */
export function neutraliseMrkdwn(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, lt);
    const gt = text.indexOf('>', lt + 1);
    const next = text.indexOf('<', lt + 1);
    const candidate = gt >= 0 && (next < 0 || gt < next) ? text.slice(lt, gt + 1) : '';
    if (candidate && ALLOWED_SEQUENCE.test(candidate)) {
      out += candidate;
      i = gt + 1;
    } else {
      out += '&lt;';
      i = lt + 1;
    }
  }
  return out.replace(BROADCAST_WORDS, `@${ZWSP}$1`);
}

/**
 * For `markdown_text` (native streams): Slack renders standard Markdown, so an HTML-style escape would
 * show literally. A zero-width space after `<` keeps `<!channel>` and `<@U1>` visible but inert.
 */
export function neutraliseMarkdown(text: string): string {
  return text.replace(/<(?=[!@#])/g, `<${ZWSP}`).replace(BROADCAST_WORDS, `@${ZWSP}$1`);
}

/**
 * Streams arrive in arbitrary pieces: `<` + `!channel>` or `@every` + `one` must not slip through as
 * two harmless halves. Each piece is neutralised on its own, and a piece that ends in what could still
 * become a mention (`<`, `@`, `@ever`) gets the zero-width space right away, so nothing is held back
 * (held-back text would be lost if the stream broke before the next piece).
 */
export function neutraliseStreamPiece(piece: string): string {
  const out = neutraliseMarkdown(piece);
  if (out.endsWith('<')) return `${out}${ZWSP}`;
  const tail = /@([a-z]{0,7})$/i.exec(out);
  if (tail && ['channel', 'here', 'everyone'].some((w) => w.startsWith((tail[1] ?? '').toLowerCase()))) {
    return `${out.slice(0, tail.index + 1)}${ZWSP}${tail[1] ?? ''}`;
  }
  return out;
}
