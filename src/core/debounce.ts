/**
 * Debounce (`triggers.debounceMs`): the messages one person sends in one conversation back to back are
 * gathered into one batch, answered once when the person has paused for the window. A batch closes
 * `windowMs` after its latest message, and at the latest `MAX_WINDOWS` windows after its first, so
 * someone who never pauses is still answered.
 */
import type { Locale } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { TurnOutcome } from './service.ts';
import type { IncomingMessage, ReplySurface } from './types.ts';

const MAX_WINDOWS = 4;

/** A message waiting in a batch, with where its answer (or refusal) goes. */
export interface Arrival {
  message: IncomingMessage;
  surface: ReplySurface;
  locale: Locale;
  log: Logger;
  /** Settles this message's `handleMessage` call. */
  settle(outcome: TurnOutcome | Promise<TurnOutcome>): void;
  fail(err: unknown): void;
}

export class Batch {
  readonly arrivals: Arrival[] = [];
  /** Resolves once no more messages join (the window passed, or shutdown). */
  readonly closed: Promise<void>;
  private isOpen = true;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly closeAt: number;
  private readonly windowMs: number;
  private markClosed: () => void = () => undefined;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
    this.closeAt = Date.now() + windowMs * MAX_WINDOWS;
    this.closed = new Promise<void>((resolve) => (this.markClosed = resolve));
  }

  get open(): boolean {
    return this.isOpen;
  }

  add(arrival: Arrival): void {
    this.arrivals.push(arrival);
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.windowMs, this.closeAt - Date.now()));
    this.timer = setTimeout(() => this.close(), wait);
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    clearTimeout(this.timer);
    this.markClosed();
  }
}

/** The open batch of each (conversation, asker) lane. */
export class MessageBatcher {
  readonly windowMs: number;
  private readonly open = new Map<string, Batch>();

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /**
   * Adds the message to its lane's open batch. Returns the batch when this message opened it: the
   * caller then takes the conversation's turn for the batch, now, in arrival order.
   */
  join(lane: string, arrival: Arrival): Batch | undefined {
    const current = this.open.get(lane);
    if (current?.open) {
      current.add(arrival);
      return undefined;
    }
    const batch = new Batch(this.windowMs);
    this.open.set(lane, batch);
    void batch.closed.then(() => {
      if (this.open.get(lane) === batch) this.open.delete(lane);
    });
    batch.add(arrival);
    return batch;
  }

  /** Closes every open batch at once (shutdown: they are answered, or told why not, without waiting). */
  closeAll(): void {
    for (const batch of this.open.values()) batch.close();
  }
}
