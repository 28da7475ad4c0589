import type { Logger } from '../log.ts';
import type { ReplySurface } from './types.ts';

const TYPING_REFRESH_MS = 8000;

/** "typing…" on the surface, refreshed every few seconds while `wanted()` holds, until stopped. */
export class TypingIndicator {
  private readonly surface: ReplySurface;
  private readonly log: Logger;
  private readonly wanted: () => boolean;
  private timer: NodeJS.Timeout | null = null;

  constructor(surface: ReplySurface, log: Logger, wanted: () => boolean) {
    this.surface = surface;
    this.log = log;
    this.wanted = wanted;
  }

  start(): void {
    if (!this.surface.showTyping || !this.wanted()) return;
    this.surface.showTyping().catch((err: unknown) => this.log.debug({ err }, 'typing indicator failed'));
    this.timer = setTimeout(() => this.start(), TYPING_REFRESH_MS);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
