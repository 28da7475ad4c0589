/**
 * Gives memory back to the system when the bot goes quiet.
 *
 * V8 frees the heap pages a busy period grew only in a memory-reducing collection, which its memory
 * reducer starts once it sees a low allocation rate. It measures that rate at garbage collections, and
 * a process that goes quiet stops collecting: the rate of its last busy moment stands, the reducer
 * keeps waiting ("high alloc" in --trace-memory-reducer), and the pooled pages stay resident — 70 MB
 * on an idle bot just after start-up, more after a burst of answers. (`--optimize-for-size` works round
 * this by making every collection reduce memory, at a third more CPU per answer under load.)
 *
 * So the bot watches for quiet itself: every `intervalMs` it reads the heap; when the heap grew less
 * than `quietBytes` since the last look and the resident size is `slackBytes` above what the last
 * release left, it runs one memory-reducing collection (about 30–100 ms on an idle bot). Needs
 * `--expose-gc` (npm start and the Docker image pass it); without it this does nothing.
 */

/** Node's gc() with options (--expose-gc). */
export type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

export interface IdleMemoryOptions {
  intervalMs?: number;
  quietBytes?: number;
  slackBytes?: number;
  /** Defaults: process.memoryUsage(), globalThis.gc. */
  read?: () => { heapUsed: number; rss: number };
  gc?: GcFunction;
  /** Told after each release, with the resident size before and after (for the log). */
  onRelease?: (before: number, after: number) => void;
}

const MB = 1024 * 1024;

export class IdleMemoryRelease {
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly gc: GcFunction | undefined;
  private lastHeap: number | undefined;
  /** Resident size right after the last release (0 before the first: the start-up's pages go too). */
  private releasedAt = 0;

  private readonly opts: IdleMemoryOptions;

  constructor(opts: IdleMemoryOptions = {}) {
    this.opts = opts;
    const gc = opts.gc ?? (globalThis as { gc?: GcFunction }).gc;
    if (typeof gc !== 'function') return;
    this.gc = gc;
    this.timer = setInterval(() => this.look(), opts.intervalMs ?? 2_500);
    this.timer.unref();
  }

  /** Whether this process can release (it was started with --expose-gc). */
  get active(): boolean {
    return this.timer !== undefined;
  }

  private read() {
    return this.opts.read?.() ?? process.memoryUsage();
  }

  private look(): void {
    const { heapUsed, rss } = this.read();
    const grew = this.lastHeap === undefined ? Number.POSITIVE_INFINITY : heapUsed - this.lastHeap;
    this.lastHeap = heapUsed;
    if (grew >= (this.opts.quietBytes ?? MB)) return;
    if (rss - this.releasedAt < (this.opts.slackBytes ?? 8 * MB)) return;
    this.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    const after = this.read();
    this.lastHeap = after.heapUsed;
    this.releasedAt = after.rss;
    this.opts.onRelease?.(rss, after.rss);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
