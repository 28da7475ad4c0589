import type { CommandSpeller } from '../i18n.ts';
import type { CommandSpec } from './commands/registry.ts';
import type { FeedbackPort } from './feedback.ts';
import type {
  Author,
  CommandInvocation,
  CommandResult,
  ConversationRef,
  IncomingMessage,
  ReplySurface,
} from './types.ts';

/** How one incoming message ended, for adapters' logs and metrics (users already saw the reply). */
export type TurnOutcome =
  | { status: 'answered'; text: string; model: string }
  | { status: 'error'; text: string; model: string; errorCode: string; errorLine: string }
  | { status: 'stopped'; text: string; model: string }
  | { status: 'command'; result: CommandResult }
  | { status: 'ignored'; reason: string }
  | { status: 'refused'; reason: string; line: string };

/** What adapters call. Platform-free: adapters translate events into these calls and nothing more. */
export interface ChatService {
  /** Runs guards, then (per conversation, in arrival order) stores the turn, streams the answer. */
  handleMessage(message: IncomingMessage, surface: ReplySurface): Promise<TurnOutcome>;
  /**
   * Runs a slash command through the same guards as a message and, unless it only reads, in the
   * conversation's turn (after the answer streaming there); returns the reply to show (ephemeral where
   * the command says so, and a refusal line when a guard says no).
   */
  runCommand(invocation: CommandInvocation): Promise<CommandResult>;
  /**
   * Whether the bot answers every message in this conversation (`/channel mode all` on it or, for a
   * thread, on its channel), not only those addressed to it. Adapters ask before handing on a message
   * that is not addressed to the bot.
   */
  answersEveryMessage(conversation: ConversationRef): Promise<boolean>;
  /** Every command, for per-platform registration (Discord application commands, Slack manifest). */
  commands(): CommandSpec[];
  /**
   * How this platform types a command (Slack: `/qwen reset`), for the command references in the bot's
   * own lines: refusals, command replies, help and error lines. Platforms that register none get `/reset`.
   */
  spellCommandsAs(platform: string, speller: CommandSpeller): void;
  /** Suggestions for an option being typed (Discord autocomplete); at most 25. */
  autocomplete(
    command: string,
    option: string,
    partial: string,
    conversation: ConversationRef,
  ): Promise<string[]>;
  /**
   * Stops the answer streaming into the message with this id (a Stop button), or the answer to the
   * message with this id (a terminal's Ctrl-C, also before the first token). Allowed for the asker
   * or an admin; returns false when there is no such answer or the user may not stop it.
   */
  stop(messageId: string, by: Author): boolean;
  /** 👍 / 👎 presses on finished answers, and the reason form of a 👎. */
  readonly feedback?: FeedbackPort;
}
