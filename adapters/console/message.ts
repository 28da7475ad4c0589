import type { Writable } from 'node:stream';
import { parseCommandText } from '../../src/core/commands/registry.ts';
import type { ChatService, TurnOutcome } from '../../src/core/service.ts';
import type { Author, ConversationRef, IncomingMessage } from '../../src/core/types.ts';
import { nearestName } from './suggest.ts';
import { ConsoleSurface } from './surface.ts';

export interface ConsoleOptions {
  service: ChatService;
  output: Writable;
  errors: Writable;
  user?: string;
  /** Conversation id; history persists under it between runs. */
  channel?: string;
  /** Render Markdown (default: when `output` is a terminal and NO_COLOR is unset). */
  markdown?: boolean;
}

export function consoleConversation(channel: string): ConversationRef {
  return { platform: 'console', workspace: 'local', channel, isDM: true };
}

/** The person at the terminal runs the bot: an admin, and not held to the per-user rate limit. */
export function consoleAuthor(user: string): Author {
  return { id: `console:${user}`, name: user, isBot: false, isAdmin: true, operator: true };
}

/**
 * Sends one line as the terminal user; resolves when the answer has been printed. The answer stops
 * (what was printed stays) when `signal` aborts, or without a signal on the first Ctrl-C (SIGINT).
 * An error or a refusal is printed once, on stderr; the answer, command replies and the other ending
 * lines ("stopped", notes) on stdout.
 */
export async function sendConsoleMessage(
  opts: ConsoleOptions,
  text: string,
  signal?: AbortSignal,
): Promise<TurnOutcome> {
  const typo = unknownCommand(opts.service, text);
  if (typo) {
    opts.errors.write(`${typo}\n`);
    return { status: 'refused', reason: 'unknown command', line: typo };
  }
  const author = consoleAuthor(opts.user ?? process.env.USER ?? 'you');
  const message: IncomingMessage = {
    id: `console-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    conversation: consoleConversation(opts.channel ?? 'terminal'),
    author,
    text,
    attachments: [],
    addressed: true,
    receivedAt: Date.now(),
  };
  const surface = new ConsoleSurface(opts.output, { markdown: opts.markdown });
  const release = onInterrupt(signal, () => opts.service.stop(message.id, author));
  let outcome: TurnOutcome;
  try {
    outcome = await opts.service.handleMessage(message, surface);
  } finally {
    release();
    surface.settle();
  }
  surface.flushPosts(outcome.status === 'refused' ? opts.errors : undefined);
  let ending = surface.ending;
  if (outcome.status === 'error') {
    ending = ending.startsWith(outcome.errorLine) ? ending.slice(outcome.errorLine.length).trim() : '';
    opts.errors.write(`error: ${outcome.errorLine.replace(/^⚠️\s*/, '')}\n`);
  }
  if (ending) opts.output.write(`${surface.format(ending)}\n`);
  return outcome;
}

/** `/modle` → a line naming /model; undefined when the text is no command-looking word or a known one. */
function unknownCommand(service: ChatService, text: string): string | undefined {
  const typed = parseCommandText(text);
  if (!typed) return undefined;
  const names = service.commands().map((c) => c.name);
  if (names.includes(typed.name) || typed.name === 'exit' || typed.name === 'quit') return undefined;
  const near = nearestName(typed.name, [...names, 'exit']);
  const hint = near ? ` Did you mean /${near}?` : '';
  return `Unknown command /${typed.name}.${hint} Type /help for the list.`;
}

/**
 * Calls `stop` when the signal aborts (or on SIGINT without one) until it takes: the answer may not have
 * started yet (guards, the conversation's queue). Returns the clean-up.
 */
function onInterrupt(signal: AbortSignal | undefined, stop: () => boolean): () => void {
  let timer: NodeJS.Timeout | undefined;
  const trigger = () => {
    if (stop()) return;
    timer = setInterval(() => {
      if (stop()) clearInterval(timer);
    }, 20);
  };
  if (signal) signal.addEventListener('abort', trigger, { once: true });
  else process.once('SIGINT', trigger);
  return () => {
    clearInterval(timer);
    if (signal) signal.removeEventListener('abort', trigger);
    else process.off('SIGINT', trigger);
  };
}
