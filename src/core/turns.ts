import type { Coordinator } from '../store/coordination.ts';
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

  constructor(queue: KeyedQueue, coordinator: Coordinator) {
    this.queue = queue;
    this.coordinator = coordinator;
  }

  /**
   * Runs `task` after everything that took a place in this conversation's line before it. The place is
   * taken now, synchronously, so call in arrival order. When the shared line cannot be joined (store
   * down), `noTurn` answers instead.
   */
  run<T>(key: string, task: () => Promise<T>, noTurn: (err: Error) => Promise<T>): Promise<T> {
    const place = this.coordinator.shared ? this.coordinator.turn(key) : undefined;
    place?.catch(() => undefined);
    return this.queue.run(key, async () => {
      const turn = await place?.catch((err: unknown) =>
        err instanceof Error ? err : new Error(String(err)),
      );
      if (turn instanceof Error) return noTurn(turn);
      try {
        return await task();
      } finally {
        await turn?.release();
      }
    });
  }
}
