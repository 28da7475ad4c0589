/** A pause that `wake` can cut short (the streamer's pacing waits end early when the answer finishes). */
export class WakeableSleep {
  private waking: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waking = () => {
        this.waking = null;
        done();
      };
    });
  }

  /** Ends the pause in progress, if any. */
  wake(): void {
    this.waking?.();
  }
}
