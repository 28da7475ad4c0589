import type { Locale } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { KeyedQueue } from '../util/keyed-queue.ts';
import { type AnswerDeps, AnswerTurn } from './answer-turn.ts';
import type { TurnOutcome } from './service.ts';
import type { ConversationTurns } from './turns.ts';
import { conversationKey, type IncomingMessage, type ReplySurface } from './types.ts';

export interface MessagePhaseDeps {
  turns: ConversationTurns;
  /** One lane per (conversation, asker): a person's messages are answered one after another. */
  lanes: KeyedQueue;
  answerDeps: AnswerDeps;
  /** Shutdown and guards, in the conversation's turn: an outcome when the message is not answered. */
  admit: (
    message: IncomingMessage,
    surface: ReplySurface,
    locale: Locale,
  ) => Promise<TurnOutcome | undefined>;
  /** The outcome when the conversation's turn cannot be had (store down, or not within the deadline). */
  noTurn: (err: Error, surface: ReplySurface, locale: Locale, log: Logger) => Promise<TurnOutcome>;
}

type Arrival = { outcome: TurnOutcome } | { answered: Promise<TurnOutcome> };

/** The asker's lane in a conversation. */
export function laneKey(conversation: string, askerId: string): string {
  return `${conversation}|${askerId}`;
}

/**
 * A message for the model, in two phases, so that different askers in one busy conversation are
 * answered side by side while history keeps arrival order:
 *
 * 1. Arrival, in the conversation's turn (in-process queue and, with a shared store, the cross-instance
 *    turn), in arrival order and short: guards, settings, the user's turn stored with its answer's slot
 *    reserved. The asker's lane is taken here too, so their next message cannot go first.
 * 2. The answer, in the asker's lane, outside the conversation's turn: the prompt holds every turn
 *    stored before the slot (earlier questions, answered or not, and the answers already done), the
 *    reply streams, and the answer is written into its slot (briefly in the conversation's turn again).
 *
 * Commands that change the conversation (/reset, /forget, /model…) take the conversation's turn in
 * arrival order and do not wait for answers in flight: an answer that started before a /reset finishes
 * in the channel but is not stored, so the new conversation starts clean.
 */
export async function answerMessage(
  deps: MessagePhaseDeps,
  message: IncomingMessage,
  surface: ReplySurface,
  locale: Locale,
  log: Logger,
): Promise<TurnOutcome> {
  const key = conversationKey(message.conversation);
  const arrival = await deps.turns.run<Arrival>(
    key,
    async (shared) => {
      const refused = await deps.admit(message, surface, locale);
      if (refused) return { outcome: refused };
      const turn = new AnswerTurn(deps.answerDeps, message, surface, locale, log);
      await turn.arrive();
      if (shared?.signal?.aborted) turn.loseTurn();
      const answered = deps.lanes.run(laneKey(key, message.author.id), () => turn.answer());
      // Awaited below, after the turn is released; this keeps a rejection meanwhile from counting as unhandled.
      answered.catch(() => undefined);
      return { answered };
    },
    async (err) => ({ outcome: await deps.noTurn(err, surface, locale, log) }),
  );
  return 'outcome' in arrival ? arrival.outcome : arrival.answered;
}
