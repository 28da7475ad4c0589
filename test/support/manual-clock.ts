import type { LimitsClock } from '../../src/qwen/limits.ts';

/**
 * A clock that moves only when a test moves it: the rate limiter and the DashScope simulator both read
 * it, so a minute of account rate passes in a few milliseconds and every wait is exact.
 */
export class ManualClock implements LimitsClock {
  private t: number;
  private sleepers: Array<{ at: number; seq: number; resolve: () => void }> = [];
  private seq = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now = (): number => this.t;

  sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.sleepers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve });
    });

  /** Sleepers waiting for the clock. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward by `ms`, waking every sleeper due on the way in time order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    // What is already under way may be about to sleep: let it, so its wake-up is counted from now.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      const due = this.sleepers.filter((s) => s.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      this.sleepers = this.sleepers.filter((s) => s !== due);
      due.resolve();
      // Let what the sleeper wakes run (and sleep again) before the next one is due.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.t = end;
  }
}
