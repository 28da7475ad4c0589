import type { Locale } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { KeyedQueue } from '../util/keyed-queue.ts';
import { type AnswerDeps, readAnswerStart } from './answer-parts.ts';
import { AnswerTurn } from './answer-turn.ts';
import { type Arrival, Batch, type MessageBatcher } from './debounce.ts';
import { composeQuestion } from './question.ts';
import type { TurnOutcome } from './service.ts';
import type { ConversationTurns } from './turns.ts';
import { conversationKey, type IncomingMessage, type ReplySurface } from './types.ts';
import { hearVoice, type VoiceDeps } from './voice.ts';

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
  /** Gathers one person's back-to-back messages into one question (off without it, or a 0 window). */
  batcher?: MessageBatcher;
  /** Transcribes voice messages into the question's text before it is stored. */
  voice: VoiceDeps;
}

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
 * With a debounce window (debounce.ts), a person's back-to-back messages wait together in the
 * conversation's turn until the window passes, and arrive as one question.
 *
 * Commands that change the conversation (/reset, /forget, /model…) take the conversation's turn in
 * arrival order and do not wait for answers in flight: an answer that started before a /reset finishes
 * in the channel but is not stored, so the new conversation starts clean.
 */
export function answerMessage(
  deps: MessagePhaseDeps,
  message: IncomingMessage,
  surface: ReplySurface,
  locale: Locale,
  log: Logger,
): Promise<TurnOutcome> {
  const key = conversationKey(message.conversation);
  return new Promise<TurnOutcome>((resolve, reject) => {
    const arrival: Arrival = { message, surface, locale, log, settle: resolve, fail: reject };
    // The terminal sends one line and waits for its answer: nothing to gather there.
    if (!deps.batcher || deps.batcher.windowMs <= 0 || message.author.operator) {
      const batch = new Batch(0);
      batch.add(arrival);
      batch.close();
      return answerBatch(deps, key, batch);
    }
    const opened = deps.batcher.join(laneKey(key, message.author.id), arrival);
    if (opened) answerBatch(deps, key, opened);
  });
}

/**
 * Takes the conversation's turn for the batch at once (its place in arrival order), waits there for
 * the batch to close, then admits each message (guards, per message) and answers those admitted as one
 * question, replying to the last. The others are settled as joined into it, or with their refusal.
 */
function answerBatch(deps: MessagePhaseDeps, key: string, batch: Batch): void {
  const first = batch.arrivals[0];
  if (!first) return;
  const settled = deps.turns.run<void>(
    key,
    async (shared) => {
      await batch.closed;
      // Read while the guards run (the dedupe claim is a store write of its own): one store round trip
      // less in front of the model call. A refused message leaves the read unused.
      const started = readAnswerStart(deps.answerDeps, first.message.conversation);
      started.catch(() => undefined);
      const admitted: Arrival[] = [];
      for (const a of batch.arrivals) {
        const refused = await deps.admit(a.message, a.surface, a.locale);
        if (refused) a.settle(refused);
        else admitted.push(a);
      }
      const last = admitted.at(-1);
      if (!last) return;
      for (const a of admitted.slice(0, -1))
        a.settle({ status: 'ignored', reason: 'joined the next message' });
      const question = composeQuestion(
        admitted.map((a) => a.message),
        last.locale,
      );
      if (admitted.length > 1) last.log.debug({ messages: admitted.length }, 'messages joined into one turn');
      const heard = await hearVoice(deps.voice, question, last.surface, last.locale, last.log);
      if ('outcome' in heard) return last.settle(heard.outcome);
      const turn = new AnswerTurn(
        deps.answerDeps,
        heard.message,
        heard.surface,
        last.locale,
        last.log,
        started,
      );
      await turn.arrive();
      if (shared?.signal?.aborted) turn.loseTurn();
      const answered = deps.lanes.run(laneKey(key, last.message.author.id), () => turn.answer());
      // Settled after the turn is released; this keeps a rejection meanwhile from counting as unhandled.
      answered.catch(() => undefined);
      last.settle(answered);
    },
    async (err) => {
      // No turn (store down, deadline): nothing more joins; one line for the batch, on its latest message.
      batch.close();
      const last = batch.arrivals.at(-1) ?? first;
      const outcome = await deps.noTurn(err, last.surface, last.locale, last.log);
      for (const a of batch.arrivals)
        a.settle(a === last ? outcome : { status: 'ignored', reason: 'joined the next message' });
    },
  );
  settled.catch((err: unknown) => {
    for (const a of batch.arrivals) a.fail(err);
  });
}
