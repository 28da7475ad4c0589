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

  /** Appends one turn. Callers serialise per conversation (the service's per-key queue). */
  async append(conversation: string, turn: Turn): Promise<void> {
    const turns = await this.load(conversation);
    turns.push(turn);
    const kept = turns.slice(-this.opts.maxTurns);
    await guard('save history', () =>
      this.store.set(
        HistoryStore.key(conversation),
        { turns: kept } satisfies StoredHistory,
        this.opts.retentionMs,
      ),
    );
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
