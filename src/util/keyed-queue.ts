/** Runs tasks one at a time per key, in arrival order; different keys run in parallel. */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly depths = new Map<string, number>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    this.depths.set(key, (this.depths.get(key) ?? 0) + 1);
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      const depth = (this.depths.get(key) ?? 1) - 1;
      if (depth <= 0) this.depths.delete(key);
      else this.depths.set(key, depth);
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Tasks waiting or running, over all keys. */
  get size(): number {
    let n = 0;
    for (const d of this.depths.values()) n += d;
    return n;
  }

  /** Resolves when every task queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
