import type { Writable } from 'node:stream';
import type { NativeStream, ReplySurface } from '../../src/core/types.ts';
import { MarkdownStream, renderMarkdown } from './markdown.ts';

const WAITING = '\x1b[2m… (Ctrl-C stops)\x1b[0m';

/** Markdown is rendered for a person at a terminal; a pipe or file gets the text as the model wrote it. */
export function rendersMarkdown(output: Writable): boolean {
  const tty = (output as Partial<NodeJS.WriteStream>).isTTY === true;
  return tty && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

/**
 * The terminal as a platform: answers stream to `output` as they arrive (an append-only "native"
 * stream), rendered as Markdown on a terminal; command replies and refusals are printed as they are.
 * The answer's ending lines are kept apart (`ending`), so the caller prints an error once, on stderr.
 */
export class ConsoleSurface implements ReplySurface {
  readonly limits = { maxChars: 100_000, minEditIntervalMs: 0, paceBucket: 'console' };
  /** The terminal user runs the bot: failures name the URL and the setting to check. */
  readonly audience = 'operator' as const;
  readonly native;
  /** The ending lines of the last answer (error, "stopped", notes), not yet printed. */
  ending = '';
  private readonly output: Writable;
  private readonly markdown: boolean;
  /** On a terminal: shown until the first token ("the model is working"), then erased. */
  readonly showTyping?: () => Promise<void>;
  private printed = new Map<string, string>();
  private seq = 0;
  private waiting = false;
  private held: string[] = [];

  constructor(output: Writable, options: { markdown?: boolean } = {}) {
    this.output = output;
    this.markdown = options.markdown ?? rendersMarkdown(output);
    if (this.markdown) {
      this.showTyping = async () => {
        if (this.waiting) return;
        this.waiting = true;
        this.output.write(`${WAITING}`);
      };
    }
    this.native = {
      maxChars: Number.MAX_SAFE_INTEGER,
      minAppendIntervalMs: 0,
      open: async (): Promise<NativeStream> => {
        const id = `console-${++this.seq}`;
        const write = (text: string) => this.write(text);
        const md = this.markdown ? new MarkdownStream(write) : undefined;
        return {
          id,
          append: async (text: string) => (md ? md.push(text) : write(text)),
          stop: async () => {
            md?.end();
            write('\n');
          },
        };
      },
      ending: async (lines: string) => {
        this.ending = lines;
      },
    };
  }

  /** Takes the waiting mark off the screen (before anything else is printed on its line). */
  settle(): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.output.write('\r\x1b[K');
  }

  private write(text: string): void {
    this.settle();
    this.output.write(text);
  }

  /** Text as this terminal shows it. */
  format(text: string): string {
    return this.markdown ? renderMarkdown(text) : text;
  }

  /**
   * Posts are command replies and refusals (answers stream natively): held until the caller knows which
   * (`flushPosts`), so a refusal goes to stderr with the other errors.
   */
  async post(text: string) {
    const id = `console-${++this.seq}`;
    this.held.push(text);
    this.printed.set(id, text);
    return { id };
  }

  /** Prints the held posts: to `errors` as they are, or to stdout as this terminal shows text. */
  flushPosts(errors?: Writable): void {
    const texts = this.held.splice(0);
    for (const text of texts) {
      if (errors) errors.write(`${text}\n`);
      else this.write(`${this.format(text)}\n`);
    }
  }

  /** A terminal cannot rewrite what it printed: print only what was added (or the new text). */
  async edit(message: { id: string }, text: string, options?: { final?: boolean }) {
    this.flushPosts();
    const before = this.printed.get(message.id) ?? '';
    this.write(this.format(text.startsWith(before) ? text.slice(before.length) : `\n${text}`));
    this.printed.set(message.id, text);
    if (options?.final) this.write('\n');
  }
}
