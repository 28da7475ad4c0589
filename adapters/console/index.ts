import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { ChatService, TurnOutcome } from '../../src/core/service.ts';
import type { ConversationRef, IncomingMessage, NativeStream, ReplySurface } from '../../src/core/types.ts';

export interface ConsoleOptions {
  service: ChatService;
  output: Writable;
  errors: Writable;
  user?: string;
  /** Conversation id; history persists under it between runs. */
  channel?: string;
}

/**
 * The terminal as a platform: answers stream to `output` as they arrive (an append-only "native"
 * stream); command replies and refusals are printed as they are.
 */
export class ConsoleSurface implements ReplySurface {
  readonly limits = { maxChars: 100_000, minEditIntervalMs: 0, paceBucket: 'console' };
  /** The terminal user runs the bot: failures name the URL and the setting to check. */
  readonly audience = 'operator' as const;
  readonly native;
  private readonly output: Writable;
  private printed = new Map<string, string>();
  private seq = 0;

  constructor(output: Writable) {
    this.output = output;
    this.native = {
      maxChars: Number.MAX_SAFE_INTEGER,
      minAppendIntervalMs: 0,
      open: async (): Promise<NativeStream> => ({
        append: async (text: string) => void this.output.write(text),
        stop: async () => void this.output.write('\n'),
      }),
    };
  }

  async post(text: string) {
    const id = `console-${++this.seq}`;
    this.output.write(text);
    this.printed.set(id, text);
    return { id };
  }

  /** A terminal cannot rewrite what it printed: print only what was added (or the new text). */
  async edit(message: { id: string }, text: string, options?: { final?: boolean }) {
    const before = this.printed.get(message.id) ?? '';
    this.output.write(text.startsWith(before) ? text.slice(before.length) : `\n${text}`);
    this.printed.set(message.id, text);
    if (options?.final) this.output.write('\n');
  }
}

export function consoleConversation(channel: string): ConversationRef {
  return { platform: 'console', workspace: 'local', channel, isDM: true };
}

/** Sends one line as the terminal user; resolves when the answer has been printed. */
export async function sendConsoleMessage(opts: ConsoleOptions, text: string): Promise<TurnOutcome> {
  const user = opts.user ?? process.env.USER ?? 'you';
  const message: IncomingMessage = {
    id: `console-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    conversation: consoleConversation(opts.channel ?? 'terminal'),
    author: { id: `console:${user}`, name: user, isBot: false },
    text,
    attachments: [],
    addressed: true,
    receivedAt: Date.now(),
  };
  const surface = new ConsoleSurface(opts.output);
  const outcome = await opts.service.handleMessage(message, surface);
  if (outcome.status === 'command' || outcome.status === 'refused') opts.output.write('\n');
  if (outcome.status === 'error') opts.errors.write(`error: ${outcome.errorLine.replace(/^⚠️\s*/, '')}\n`);
  return outcome;
}

/** Interactive session: one line in, one streamed answer out, until EOF or /exit. */
export async function runInteractive(
  opts: ConsoleOptions & { input: NodeJS.ReadableStream; prompt?: boolean },
): Promise<void> {
  const rl = createInterface({ input: opts.input, terminal: false });
  const showPrompt = () => {
    if (opts.prompt) opts.output.write('> ');
  };
  showPrompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/exit' || text === '/quit') break;
    if (text) await sendConsoleMessage(opts, text);
    showPrompt();
  }
  rl.close();
}
