import type { NativeTask } from './types.ts';

/**
 * The tools of an answer as native task updates: a tool that starts running is a new task
 * `in_progress`, one that is no longer running is `complete`, or `error` when its call failed (Slack
 * then shows the step as failed instead of done). Told the running tools each time.
 */
export class ToolProgress {
  private readonly running = new Map<string, string>();
  private seq = 0;

  /** The updates that take the tasks shown from the last set of running tools to `names` (`failed`: whose call failed). */
  update(names: string[], failed: string[]): NativeTask[] {
    const updates: NativeTask[] = [];
    for (const [title, id] of this.running) {
      if (names.includes(title)) continue;
      this.running.delete(title);
      updates.push({ id, title, status: failed.includes(title) ? 'error' : 'complete' });
    }
    for (const title of names) {
      if (this.running.has(title)) continue;
      const id = `tool-${++this.seq}`;
      this.running.set(title, id);
      updates.push({ id, title, status: 'in_progress' });
    }
    return updates;
  }

  /** The tools running now. */
  get names(): string[] {
    return [...this.running.keys()];
  }
}
