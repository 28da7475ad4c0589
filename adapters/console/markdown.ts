/**
 * Markdown for a terminal, rendered as it streams: headings, lists, block quotes, rules, fenced code,
 * inline code and bold. Each character is printed once and never rewritten (a terminal cannot take
 * back what scrolled by), so only what is still ambiguous waits: the start of a line until its kind is
 * known (`#`, `-`, `1.`, a fence), and a trailing `*` or backtick until the next character. Tables,
 * links and italics stay as written, which reads fine.
 */

import { closesFence, fenceLine } from '../../src/core/fences.ts';

const SGR = (codes: string) => `\x1b[${codes}m`;
const RESET = SGR('0');
const DIM = (text: string) => `${SGR('2')}${text}${RESET}`;

type LineKind = 'text' | 'heading' | 'quote' | 'code';

/** Line starts that may still turn into a marker when more characters come. */
const UNDECIDED = [
  /^\s*$/,
  /^ {0,3}#{1,6}$/,
  /^\s*[-*+]$/,
  /^\s*\d{1,9}[.)]?$/,
  /^ {0,3}[`~]{1,2}$/,
  /^ {0,3}>$/,
  /^ {0,3}([-*_])(\s*\1)*\s*$/,
];
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+|$)/;
const BULLET = /^(\s*)[-*+]\s+/;
const ORDERED = /^(\s*)(\d{1,9})([.)])\s+/;
const QUOTE = /^ {0,3}>\s?/;

export class MarkdownStream {
  private readonly write: (text: string) => void;
  private pending = '';
  private atLineStart = true;
  private kind: LineKind = 'text';
  private headingLevel = 0;
  /** The fence that opened the code block we are in ('' outside one). */
  private fence = '';
  private bold = false;
  private code = false;
  private styled = false;

  constructor(write: (text: string) => void) {
    this.write = write;
  }

  push(delta: string): void {
    this.pending += delta;
    this.drain(false);
  }

  /** Prints whatever was held back and closes every style. */
  end(): void {
    this.drain(true);
    if (this.styled) this.write(RESET);
    this.styled = false;
  }

  private drain(final: boolean): void {
    let out = '';
    while (this.pending) {
      if (this.atLineStart) {
        const started = this.startLine(final);
        if (started === undefined) break;
        out += started;
        continue;
      }
      const nl = this.pending.indexOf('\n');
      const segment = nl < 0 ? this.pending : this.pending.slice(0, nl);
      // A trailing `*` or backtick may be half of `**` or a longer backtick run: wait for the next character.
      const hold = nl < 0 && !final ? (/[*`]+$/.exec(segment)?.[0].length ?? 0) : 0;
      const ready = segment.slice(0, segment.length - hold);
      out += this.kind === 'code' ? ready : this.inline(ready);
      if (nl < 0) {
        this.pending = this.pending.slice(ready.length);
        break;
      }
      this.pending = this.pending.slice(nl + 1);
      out += this.endLine();
    }
    if (final && this.pending) {
      out += this.inline(this.pending);
      this.pending = '';
    }
    if (out) this.write(out);
  }

  /** Decides the kind of the line at the start of `pending`; undefined while it cannot tell yet. */
  private startLine(final: boolean): string | undefined {
    const nl = this.pending.indexOf('\n');
    const head = nl < 0 ? this.pending : this.pending.slice(0, nl);
    const complete = nl >= 0 || final;
    const takeLine = () => {
      this.pending = nl < 0 ? '' : this.pending.slice(nl + 1);
    };
    if (this.fence) {
      if (!complete && /^ {0,3}[`~]*\s*$/.test(head)) return undefined;
      if (closesFence(fenceLine(head), this.fence)) {
        takeLine();
        this.fence = '';
        return `${DIM('└─')}\n`;
      }
      this.atLineStart = false;
      this.kind = 'code';
      return `${DIM('│ ')}${this.restyle()}`;
    }
    if (!complete && UNDECIDED.some((re) => re.test(head))) return undefined;
    const fence = fenceLine(head);
    if (fence) {
      if (!complete) return undefined;
      takeLine();
      this.fence = fence.marker;
      const language = fence.info.trim().split(/\s+/)[0] ?? '';
      return `${DIM(`┌─${language ? ` ${language}` : ''}`)}\n`;
    }
    if (complete && RULE.test(head)) {
      takeLine();
      return `${DIM('─'.repeat(40))}\n`;
    }
    this.atLineStart = false;
    const heading = HEADING.exec(head);
    if (heading) {
      this.pending = this.pending.slice(heading[0].length);
      this.kind = 'heading';
      this.headingLevel = heading[1]?.length ?? 1;
      return this.restyle();
    }
    this.kind = 'text';
    const bullet = BULLET.exec(head);
    if (bullet) {
      this.pending = this.pending.slice(bullet[0].length);
      return `${bullet[1]}• `;
    }
    const ordered = ORDERED.exec(head);
    if (ordered) {
      this.pending = this.pending.slice(ordered[0].length);
      return `${ordered[1]}${ordered[2]}${ordered[3]} `;
    }
    const quote = QUOTE.exec(head);
    if (quote) {
      this.pending = this.pending.slice(quote[0].length);
      this.kind = 'quote';
      return `${DIM('│ ')}${this.restyle()}`;
    }
    return '';
  }

  /** Bold and inline code in running text. */
  private inline(text: string): string {
    let out = '';
    for (let i = 0; i < text.length; ) {
      if (text[i] === '`') {
        let run = 1;
        while (text[i + run] === '`') run++;
        this.code = !this.code;
        out += this.restyle();
        i += run;
      } else if (!this.code && text[i] === '*' && text[i + 1] === '*') {
        this.bold = !this.bold;
        out += this.restyle();
        i += 2;
      } else {
        out += text[i];
        i++;
      }
    }
    return out;
  }

  private endLine(): string {
    const reset = this.styled ? RESET : '';
    this.styled = false;
    this.bold = false;
    this.code = false;
    this.atLineStart = true;
    this.kind = 'text';
    return `${reset}\n`;
  }

  /** The escape sequence for the current styles (after a reset, so nothing leaks). */
  private restyle(): string {
    const codes: string[] = [];
    if (this.kind === 'heading') codes.push(this.headingLevel <= 1 ? '1;4;33' : '1;33');
    if (this.kind === 'quote') codes.push('2');
    if (this.kind === 'code' || this.code) codes.push('36');
    if (this.bold) codes.push('1');
    const had = this.styled;
    this.styled = codes.length > 0;
    if (!this.styled) return had ? RESET : '';
    return `${had ? RESET : ''}${SGR(codes.join(';'))}`;
  }
}

/** Renders a whole Markdown text for a terminal (command replies, one-shot answers). */
export function renderMarkdown(text: string): string {
  let out = '';
  const stream = new MarkdownStream((s) => {
    out += s;
  });
  stream.push(text);
  stream.end();
  return out;
}
