import type { MessageKey } from '../i18n.ts';
import type { Coordinator, Turn } from '../store/coordination.ts';
import { TurnTimeoutError } from '../store/turn-errors.ts';
import type { KeyedQueue } from '../util/keyed-queue.ts';

/**
 * A conversation's turn: its place in this process's queue and, with a shared store, in the
 * cross-instance line. What changes the conversation runs in it, one at a time: a question's arrival
 * (stored with its answer's slot), the storing of an answer into its slot, commands, crash repair.
 * Answers stream outside it (see message-phases.ts).
 */
export class ConversationTurns {
  private readonly queue: KeyedQueue;
  private readonly coordinator: Coordinator;
  private readonly timeoutMs: number;

  constructor(queue: KeyedQueue, coordinator: Coordinator, timeoutMs = 120_000) {
    this.queue = queue;
    this.coordinator = coordinator;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Runs `task` after everything that took a place in this conversation's line before it. The place is
   * taken now, synchronously, so call in arrival order. When the shared line cannot be joined (store
   * down) or the turn does not come within the deadline, `noTurn` answers instead; on a deadline at
   * once, and the place is given up so the line moves on. `task` gets the shared turn, whose signal
   * says when it was lost.
   */
  run<T>(key: string, task: (turn?: Turn) => Promise<T>, noTurn: (err: Error) => Promise<T>): Promise<T> {
    const waiting = new AbortController();
    const deadline = setTimeout(
      () => waiting.abort(new TurnTimeoutError(key, this.timeoutMs)),
      this.timeoutMs,
    );
    const place = this.coordinator.shared
      ? this.coordinator.turn(key, { signal: waiting.signal })
      : undefined;
    place?.catch(() => undefined);
    let state: 'waiting' | 'started' | 'gave up' = 'waiting';
    return new Promise<T>((resolve, reject) => {
      waiting.signal.addEventListener(
        'abort',
        () => {
          if (state !== 'waiting') return;
          state = 'gave up';
          noTurn(waiting.signal.reason).then(resolve, reject);
        },
        { once: true },
      );
      this.queue
        .run(key, async () => {
          if (state === 'gave up') {
            // Granted just as the deadline passed: handed straight on.
            await place?.then((turn) => turn.release()).catch(() => undefined);
            return;
          }
          state = 'started';
          clearTimeout(deadline);
          const turn = await place?.catch((err: unknown) =>
            err instanceof Error ? err : new Error(String(err)),
          );
          if (turn instanceof Error) return resolve(await noTurn(turn));
          try {
            resolve(await task(turn));
          } finally {
            await turn?.release();
          }
        })
        .catch(reject);
    });
  }
}

/** The line for a turn that could not be had, the refusal reason and how it is logged. */
export function noTurnLine(err: Error): {
  reason: string;
  line: MessageKey;
  level: 'warn' | 'error';
  log: string;
} {
  if (err instanceof TurnTimeoutError)
    return {
      reason: 'conversation busy',
      line: 'turn.busy',
      level: 'warn',
      log: 'no turn within the deadline',
    };
  return {
    reason: 'store unavailable',
    line: 'error.store',
    level: 'error',
    log: 'could not take a turn in the shared store',
  };
}
