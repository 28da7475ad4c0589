import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/util/package-root.ts';

const CHAT_USAGE = `Usage: qwenbot chat [message]        (from a clone: npm start -- chat [message])

  With a message, prints the answer and exits (exit code 1 when the model failed).
  Without one, starts a chat session:
    Enter sends · ↑/↓ earlier lines · Tab completes a /command
    Ctrl-C stops an answer (what arrived stays) · Ctrl-C again, Ctrl-D or /exit leaves
  /help lists the commands (/model, /reset, /system, …).

Options:
  -h, --help      this text
  -v, --version   the version

Environment: DASHSCOPE_API_KEY (needed), DASHSCOPE_BASE_URL, QWENBOT_CONFIG, QWENBOT_STORE,
  LOG_LEVEL (a structured log on stderr), NO_COLOR (plain text instead of rendered Markdown).
No key yet? npm run demo chats with the built-in simulator.`;

export function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

/**
 * `--version` anywhere a command could be, and `chat --help`: what to print and the exit code, before
 * any configuration is read. An unknown `chat` option is an error rather than a question for the model.
 * Undefined when the arguments are something else.
 */
export function chatCliInfo(argv: string[]): { code: number; stdout?: string; stderr?: string } | undefined {
  const [command, first] = argv;
  const isVersion = (a?: string) => a === '--version' || a === '-v';
  if (isVersion(command) || (command === 'chat' && isVersion(first)))
    return { code: 0, stdout: `qwenbot ${version()}\n` };
  if (command !== 'chat' || first === undefined) return undefined;
  if (first === '--help' || first === '-h') return { code: 0, stdout: `${CHAT_USAGE}\n` };
  if (/^--?[a-z]/i.test(first) && argv.length === 2 && !/\s/.test(first))
    return { code: 2, stderr: `qwenbot: unknown option ${first} for chat (see: qwenbot chat --help)\n` };
  return undefined;
}

/** Prints the answer to `--version`, `chat --help` or a bad chat option; its exit code, else undefined. */
export function answerChatFlags(argv: string[]): number | undefined {
  const info = chatCliInfo(argv);
  if (!info) return undefined;
  if (info.stdout) process.stdout.write(info.stdout);
  if (info.stderr) process.stderr.write(info.stderr);
  return info.code;
}
