import { createInterface, type Interface } from 'node:readline';
import type { ConsoleOptions } from './message.ts';
import { sendConsoleMessage } from './message.ts';

export interface InteractiveOptions extends ConsoleOptions {
  input: NodeJS.ReadableStream;
  /** A person at a terminal: line editing, history, a prompt, Ctrl-C handling. Else lines are read as piped. */
  prompt?: boolean;
}

const EXIT = new Set(['/exit', '/quit']);
/** Bracketed paste: the terminal marks pasted text, so a pasted block of lines is one message. */
const PASTE_ON = '\x1b[?2004h';
const PASTE_OFF = '\x1b[?2004l';
export const EXIT_HINT = '(To leave, press Ctrl-C again or Ctrl-D, or type /exit.)';

/** Interactive session: one line in, one streamed answer out, until EOF or /exit. */
export function runInteractive(opts: InteractiveOptions): Promise<void> {
  // With stdout redirected, raw mode would hide what is typed: the kernel's own echo is better then.
  const screen = (opts.output as Partial<NodeJS.WriteStream>).isTTY === true;
  return opts.prompt && screen ? runTerminal(opts) : runPiped(opts);
}

async function runPiped(opts: InteractiveOptions): Promise<void> {
  const rl = createInterface({ input: opts.input, terminal: false });
  for await (const line of rl) {
    const text = line.trim();
    if (EXIT.has(text)) break;
    if (text) await sendConsoleMessage(opts, text);
  }
  rl.close();
}

/**
 * The terminal line editor (node:readline in raw mode: arrow keys, history, Tab for commands, and no
 * 4,095-byte line limit, which is the kernel's cooked mode). Lines typed while an answer streams wait
 * their turn; lines pasted together are one message. Ctrl-C stops the answer and keeps what was
 * printed; at the prompt it clears the line, and a second one on an empty line (or the one after a stop)
 * leaves, as Ctrl-D does.
 */
function runTerminal(opts: InteractiveOptions): Promise<void> {
  const commands = opts.service.commands().map((c) => `/${c.name}`);
  const rl = createInterface({
    input: opts.input,
    output: opts.output,
    terminal: true,
    prompt: '> ',
    historySize: 1000,
    removeHistoryDuplicates: true,
    completer: (line: string) => {
      const hits = [...commands, ...EXIT].filter((c) => c.startsWith(line)).map((c) => `${c} `);
      return [line.startsWith('/') ? hits : [], line];
    },
  });
  const queue: string[] = [];
  let answering: AbortController | undefined;
  let closed = false;
  let armedExit = false;
  let pasting = false;
  const pasted: string[] = [];
  const onKey = (_s: string, key?: { name?: string }) => {
    if (key?.name === 'paste-start') pasting = true;
    else if (key?.name === 'paste-end') pasting = false;
  };
  opts.input.on('keypress', onKey);
  opts.output.write(PASTE_ON);

  return new Promise<void>((resolve) => {
    const pump = async () => {
      if (answering) return;
      while (queue.length > 0 && !closed) {
        const text = (queue.shift() ?? '').trim();
        if (EXIT.has(text)) {
          rl.close();
          break;
        }
        if (!text) continue;
        const stop = new AbortController();
        answering = stop;
        try {
          await sendConsoleMessage(opts, text, stop.signal);
        } finally {
          answering = undefined;
        }
        // Stopped with Ctrl-C: one more on the empty prompt leaves.
        if (stop.signal.aborted && queue.length === 0) {
          armedExit = true;
          opts.output.write(`${EXIT_HINT}\n`);
        }
      }
      if (closed) resolve();
      else rl.prompt();
    };
    rl.on('line', (line) => {
      armedExit = false;
      // Inside a paste, Enter is part of the text; the Enter after it sends the whole block.
      if (pasting) return void pasted.push(line);
      queue.push([...pasted.splice(0), line].join('\n'));
      void pump();
    });
    rl.on('SIGINT', () => onInterrupt(rl));
    rl.on('close', () => {
      closed = true;
      opts.input.off('keypress', onKey);
      opts.output.write(PASTE_OFF);
      if (!answering) {
        opts.output.write('\n');
        resolve();
      }
    });
    rl.prompt();
  });

  function onInterrupt(rl: Interface) {
    if (answering) {
      answering.abort();
      return;
    }
    if (rl.line) {
      // Like a shell: drop what was typed, stay at the prompt.
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      armedExit = false;
      return;
    }
    if (armedExit) {
      rl.close();
      return;
    }
    armedExit = true;
    opts.output.write(`\n${EXIT_HINT}\n`);
    rl.prompt();
  }
}
