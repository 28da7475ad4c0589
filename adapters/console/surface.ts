import type { Writable } from 'node:stream';
import type { NativeStream, ReplySurface } from '../../src/core/types.ts';
import { MarkdownStream, renderMarkdown } from './markdown.ts';

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
  readonly native;
  /** The ending lines of the last answer (error, "stopped", notes), not yet printed. */
  ending = '';
  private readonly output: Writable;
  private readonly markdown: boolean;
  private printed = new Map<string, string>();
  private seq = 0;

  constructor(output: Writable, options: { markdown?: boolean } = {}) {
    this.output = output;
    this.markdown = options.markdown ?? rendersMarkdown(output);
    this.native = {
      maxChars: Number.MAX_SAFE_INTEGER,
      minAppendIntervalMs: 0,
      open: async (): Promise<NativeStream> => {
        const id = `console-${++this.seq}`;
        const write = (text: string) => void this.output.write(text);
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

  /** Text as this terminal shows it. */
  format(text: string): string {
    return this.markdown ? renderMarkdown(text) : text;
  }

  async post(text: string) {
    const id = `console-${++this.seq}`;
    this.output.write(this.format(text));
    this.printed.set(id, text);
    return { id };
  }

  /** A terminal cannot rewrite what it printed: print only what was added (or the new text). */
  async edit(message: { id: string }, text: string, options?: { final?: boolean }) {
    const before = this.printed.get(message.id) ?? '';
    this.output.write(this.format(text.startsWith(before) ? text.slice(before.length) : `\n${text}`));
    this.printed.set(message.id, text);
    if (options?.final) this.output.write('\n');
  }
}
