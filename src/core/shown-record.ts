import type { ShownMessage } from './inflight.ts';

/** A posted message of the answer as the crash record needs it. */
export interface PostedPart {
  message: { id: string };
  text: string;
  body: string;
}

/**
 * What people see of one answer, for crash recovery: the native messages as their appends landed,
 * then the posted ones. Reported whole after every change (never an older snapshot).
 */
export class ShownRecord {
  private readonly native: ShownMessage[] = [];
  private readonly onShown: ((messages: ShownMessage[]) => void) | undefined;

  constructor(onShown?: (messages: ShownMessage[]) => void) {
    this.onShown = onShown;
  }

  /** A native append added `piece` (of which `body` is answer text) to stream `id` (known once it started). */
  noteNative(id: string | undefined, piece: string, body: string, posted: PostedPart[]): void {
    if (!id) return;
    let current = this.native.at(-1);
    if (current?.id !== id) {
      current = { id, text: '', body: '', native: true };
      this.native.push(current);
    }
    current.text += piece;
    current.body += body;
    this.report(posted);
  }

  report(posted: PostedPart[]): void {
    if (!this.onShown) return;
    const parts = posted.map((s) => ({ id: s.message.id, text: s.text, body: s.body }));
    this.onShown([...this.native.map((m) => ({ ...m })), ...parts]);
  }
}
