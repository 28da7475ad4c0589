/**
 * Gives memory back to the system when the bot goes quiet.
 *
 * V8 frees the heap pages a busy period grew only in a memory-reducing collection, which its memory
 * reducer starts once it sees a low allocation rate. It measures that rate at garbage collections, and
 * a process that goes quiet stops collecting: the rate of its last busy moment stands, the reducer
 * keeps waiting ("high alloc" in --trace-memory-reducer), and the pooled pages stay resident — 70 MB
 * on an idle bot just after start-up, more after a burst of answers. (`--optimize-for-size`, in npm
 * start's flags, works round this by making every collection reduce memory, at about twice the CPU per
 * answer under load.)
 *
 * So the bot watches for quiet itself: every `intervalMs` it reads its CPU time and RSS; when it used
 * less than 2 % of a core since the last look and the resident size is `slackBytes` above what the
 * last release left, it runs one memory-reducing collection (about 30–100 ms on an idle bot). Needs
 * `--expose-gc`, which `npm run start:busy` passes (README "Memory"); without it this does nothing.
 */

/** Node's gc() with options (--expose-gc). */
export type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

export interface IdleMemoryOptions {
  intervalMs?: number;
  /** Quiet: the process used less CPU than this share of the interval (main thread and helpers). */
  quietCpuShare?: number;
  slackBytes?: number;
  /** Defaults: the process's RSS and CPU time so far (ms), globalThis.gc. */
  read?: () => { rss: number; cpuMs: number };
  gc?: GcFunction;
  /** Told after each release, with the resident size before and after (for the log). */
  onRelease?: (before: number, after: number) => void;
}

const MB = 1024 * 1024;

function processReading(): { rss: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  return { rss: process.memoryUsage.rss(), cpuMs: (cpu.user + cpu.system) / 1000 };
}

export class IdleMemoryRelease {
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly gc: GcFunction | undefined;
  private readonly intervalMs: number;
  private lastCpuMs: number | undefined;
  /** Resident size right after the last release (0 before the first: the start-up's pages go too). */
  private releasedAt = 0;

  private readonly opts: IdleMemoryOptions;

  constructor(opts: IdleMemoryOptions = {}) {
    this.opts = opts;
    this.intervalMs = opts.intervalMs ?? 2_500;
    const gc = opts.gc ?? (globalThis as { gc?: GcFunction }).gc;
    if (typeof gc !== 'function') return;
    this.gc = gc;
    this.timer = setInterval(() => this.look(), this.intervalMs);
    this.timer.unref();
  }

  /** Whether this process can release (it was started with --expose-gc). */
  get active(): boolean {
    return this.timer !== undefined;
  }

  private read() {
    return this.opts.read?.() ?? processReading();
  }

  private look(): void {
    const { rss, cpuMs } = this.read();
    // CPU, not the heap's size, says whether the bot is busy: between two looks a busy heap can as well
    // have shrunk (a collection) as grown.
    const used = this.lastCpuMs === undefined ? Number.POSITIVE_INFINITY : cpuMs - this.lastCpuMs;
    this.lastCpuMs = cpuMs;
    if (used >= this.intervalMs * (this.opts.quietCpuShare ?? 0.02)) return;
    if (rss - this.releasedAt < (this.opts.slackBytes ?? 8 * MB)) return;
    this.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    const after = this.read();
    // The collection's own CPU does not make the next look a busy one.
    this.lastCpuMs = after.cpuMs;
    this.releasedAt = after.rss;
    this.opts.onRelease?.(rss, after.rss);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
