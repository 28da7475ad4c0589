import type { Usage } from '../qwen/client.ts';
import type { Store } from '../store/index.ts';
import { StoreError } from '../store/index.ts';

export type TurnStatus = 'complete' | 'error' | 'stopped' | 'interrupted';

export interface Turn {
  role: 'user' | 'assistant';
  text: string;
  /** Epoch ms. */
  at: number;
  /** Speaker (user turns): platform id and display name. */
  authorId?: string;
  author?: string;
  /** Number of images the user attached (the bytes are not kept). */
  images?: number;
  /** Assistant turns: which model answered, how it ended, what it cost. */
  model?: string;
  status?: TurnStatus;
  usage?: Usage;
}

interface StoredHistory {
  turns: Turn[];
}

export interface HistoryOptions {
  maxTurns: number;
  retentionMs: number;
}

/** Conversation history in the store under `hist:v1:<conversation key>`, capped and expiring. */
export class HistoryStore {
  private readonly store: Store;
  private readonly opts: HistoryOptions;

  constructor(store: Store, opts: HistoryOptions) {
    this.store = store;
    this.opts = opts;
  }

  static key(conversation: string): string {
    return `hist:v1:${conversation}`;
  }

  async load(conversation: string): Promise<Turn[]> {
    const stored = await guard('load history', () =>
      this.store.get<StoredHistory>(HistoryStore.key(conversation)),
    );
    return Array.isArray(stored?.turns) ? stored.turns : [];
  }

  /**
   * Appends one turn and returns the history as stored. Callers serialise per conversation (the
   * service's per-key queue); a caller that already holds the current turns passes them to save a read.
   */
  async append(conversation: string, turn: Turn, current?: Turn[]): Promise<Turn[]> {
    const turns = [...(current ?? (await this.load(conversation))), turn];
    const kept = turns.slice(-this.opts.maxTurns);
    const stored: StoredHistory = { turns: kept };
    await guard('save history', () =>
      this.store.set(HistoryStore.key(conversation), stored, this.opts.retentionMs),
    );
    return kept;
  }

  /** Removes a user's turns and the answers that followed them; returns how many turns went. */
  async removeUser(conversation: string, userId: string): Promise<number> {
    const turns = await this.load(conversation);
    const kept: Turn[] = [];
    let dropping = false;
    for (const turn of turns) {
      if (turn.role === 'user') dropping = turn.authorId === userId;
      if (!dropping) kept.push(turn);
    }
    const removed = turns.length - kept.length;
    if (removed === 0) return 0;
    if (kept.length === 0) await this.clear(conversation);
    else {
      const stored: StoredHistory = { turns: kept };
      await guard('save history', () =>
        this.store.set(HistoryStore.key(conversation), stored, this.opts.retentionMs),
      );
    }
    return removed;
  }

  async clear(conversation: string): Promise<void> {
    await guard('clear history', () => this.store.delete(HistoryStore.key(conversation)));
  }
}

/** Runs a store call; a failure becomes a StoreError naming what was being done. */
export async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`${what} failed: ${(err as Error).message}`, { cause: err });
  }
}
