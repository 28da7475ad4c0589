import { WakeableSleep } from '../util/wakeable-sleep.ts';
import { changed, type Part, renderPart, type Shown, visibleText } from './reply-parts.ts';
import { ShownRecord } from './shown-record.ts';
import type { StreamerOptions } from './streamer-options.ts';
import { ToolProgress } from './tool-progress.ts';
import type { FeedbackTag, NativeStream, NativeTask, PostedMessage, ReplySurface } from './types.ts';
import { TypingIndicator } from './typing.ts';

/** Tries of the final flush (the first plus retries) before giving up on a platform that keeps failing. */
const FINAL_ATTEMPTS = 4;
const FINAL_RETRY_MIN_MS = 250;

/**
 * Streams one answer onto a surface: placeholder (or typing) first, then edits paced by the surface's
 * minimum interval and its shared bucket, skipped when unchanged, each after the previous completes;
 * overflow continues in follow-up messages; the final flush always carries the whole answer plus any
 * ending line. Native streaming is tried first where the surface has it, with post-and-edit as fallback.
 */
export class ReplyStreamer {
  private readonly surface: ReplySurface;
  private readonly opts: StreamerOptions;
  private readonly now: () => number;
  private answer = '';
  private ending = '';
  /** The buttons of the answer's last message, with its final edit (complete answers only). */
  private feedback: FeedbackTag | undefined;
  private thinking = false;
  private queuedLine = '';
  private toolLine = '';
  /** When reasoning began and when the answer's text took over (for "thought for 12 s"). */
  private reasoningFrom: number | null = null;
  private reasoningUntil: number | null = null;
  private kept = '';
  private reasoning = '';
  private shown: Shown[] = [];
  private finished = false;
  private dirty = false;
  private loop: Promise<void> | null = null;
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private readonly pause = new WakeableSleep();
  private readonly typingIndicator: TypingIndicator;
  /** Native path: how much of `answer` the native stream(s) already carry. */
  private nativeChars = 0;
  private nativeState: 'unused' | 'active' | 'failed' = 'unused';
  private native: NativeStream | null = null;
  private nativeLen = 0;
  private nativeLoop: Promise<void> | null = null;
  /** Native appends and task updates go out one at a time, in order. */
  private nativeQueue: Promise<void> = Promise.resolve();
  private readonly progress = new ToolProgress();
  private readonly record: ShownRecord;
  private deliveryErrors = 0;
  edits = 0;
  posts = 0;
  firstVisibleAt: number | null = null;

  constructor(surface: ReplySurface, opts: StreamerOptions) {
    this.surface = surface;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    if (surface.native) this.nativeState = 'active';
    this.record = new ShownRecord(opts.onShown);
    const wanted = () => !this.finished && this.shown.length === 0 && !this.native;
    this.typingIndicator = new TypingIndicator(surface, opts.log, wanted);
  }

  get interval(): number {
    return Math.max(this.opts.minEditIntervalMs, this.surface.limits.minEditIntervalMs);
  }

  /** The messages posted so far (ids), e.g. to let a Stop button find its stream. */
  get messages(): PostedMessage[] {
    return this.shown.map((s) => s.message);
  }

  get text(): string {
    return this.answer;
  }

  get failedDeliveries(): number {
    return this.deliveryErrors;
  }

  /** Shows typing, or posts the placeholder at once on surfaces that cannot show typing. */
  async start(): Promise<void> {
    if (this.surface.showTyping || this.surface.native) {
      this.typingIndicator.start();
      return;
    }
    this.dirty = true;
    await this.flush(false);
  }

  /**
   * The call waits in the rate queue (`ahead` calls before it) or left it (null). The line replaces the
   * placeholder through the usual paced edits; a queued answer is then delivered by post-and-edit, since
   * a native stream cannot take back the line.
   */
  onQueued(ahead: number | null): void {
    if (this.opts.queuedText) this.showStatus(ahead === null ? '' : this.opts.queuedText(ahead));
  }

  /** A status line in place of the placeholder ('' clears it); resolves once it is on screen. */
  showStatus(line: string): Promise<void> {
    if (this.answer || this.finished || line === this.queuedLine) return Promise.resolve();
    this.queuedLine = line;
    if (line && this.nativeState === 'active' && !this.native) this.nativeState = 'unused';
    if (this.nativeState !== 'active') this.schedule();
    return this.loop ?? Promise.resolve();
  }

  /**
   * Tools run (names as people see them). The line stays until the answer's next text replaces it;
   * like the queue line, it makes a reply not yet streaming natively use post-and-edit.
   */
  onTools(names: string[], failed: string[]): void {
    if (this.finished || !this.opts.toolText) return;
    if (this.nativeState === 'active' && this.surface.native?.tasks) {
      const updates = this.progress.update(names, failed);
      if (updates.length) void this.exclusive(() => this.sendTasks(updates));
      return;
    }
    if (!names.length) return;
    const line = this.opts.toolText(names.join(', '));
    if (line === this.toolLine) return;
    this.toolLine = line;
    if (this.nativeState === 'active' && !this.native) this.nativeState = 'unused';
    if (this.nativeState !== 'active') this.schedule();
  }

  /** The reasoning kept for the ending (`keepReasoningChars`), '' when none. */
  get keptReasoning(): string {
    return this.kept.trim();
  }

  /** How long the model reasoned (ms), or null when it did not. */
  get thoughtMs(): number | null {
    if (this.reasoningFrom === null) return null;
    return (this.reasoningUntil ?? this.now()) - this.reasoningFrom;
  }

  onReasoning(delta: string): void {
    if (this.answer) return;
    this.reasoningFrom ??= this.now();
    if (this.opts.keepReasoningChars) this.kept = (this.kept + delta).slice(-this.opts.keepReasoningChars);
    if (this.opts.quoteReasoning) this.reasoning = (this.reasoning + delta).slice(-600);
    else if (this.thinking) return;
    this.thinking = true;
    if (this.nativeState !== 'active') this.schedule();
  }

  onText(delta: string): void {
    if (!delta) return;
    if (this.reasoningFrom !== null) this.reasoningUntil ??= this.now();
    this.answer += delta;
    this.toolLine = '';
    if (this.nativeState === 'active') this.scheduleNative();
    else this.schedule();
  }

  /** Ends the reply: waits for the edit in flight, then one final flush with the whole text (and buttons). */
  async finish(endingLine?: string, options?: { feedback?: FeedbackTag | undefined }): Promise<void> {
    this.feedback = options?.feedback;
    this.finished = true;
    this.typingIndicator.stop();
    this.ending = endingLine ?? '';
    this.pause.wake();
    await this.loop;
    await this.nativeLoop;
    await this.nativeQueue;
    if (
      this.nativeState === 'active' &&
      (this.native || this.answer.length > this.nativeChars || this.ending)
    ) {
      await this.appendNative(true);
    }
    if (this.nativeState === 'active' && this.native) {
      // The stream is the answer's last message unless the answer went on by post-and-edit.
      await this.native
        .stop({ final: true, feedback: this.shown.length === 0 ? this.feedback : undefined })
        .catch((err: unknown) => this.opts.log.warn({ err }, 'native stream stop failed'));
      this.native = null;
    }
    if (this.nativeState !== 'active' || this.shown.length > 0) {
      // The final edit keeps the per-message spacing too (it only adds the last words and drops buttons).
      const wait = this.firstVisibleAt !== null ? this.lastFlushAt + this.interval - this.now() : 0;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // The final flush is the only one that carries the whole answer: a failed one is tried again
      // after a growing pause instead of leaving the message half-written with its Stop button.
      for (let attempt = 1; ; attempt++) {
        await this.flush(true);
        if (!this.dirty || attempt >= FINAL_ATTEMPTS) break;
        const pause = Math.max(FINAL_RETRY_MIN_MS, this.interval) * 2 ** (attempt - 1);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
      if (this.dirty)
        this.opts.log.error(
          { attempts: FINAL_ATTEMPTS, posts: this.posts },
          'final reply delivery failed; the message may show an incomplete answer',
        );
    }
  }

  // ---- post-and-edit path ----

  private visibleText(): string {
    const { answer, nativeChars, ending, toolLine, queuedLine, thinking, reasoning } = this;
    const { placeholder, thinkingText } = this.opts;
    return visibleText({
      answer,
      nativeChars,
      ending,
      toolLine,
      queuedLine,
      thinking,
      reasoning,
      placeholder,
      thinkingText,
    });
  }

  private schedule(): void {
    this.dirty = true;
    if (!this.loop && !this.finished) this.loop = this.run().finally(() => (this.loop = null));
  }

  private async run(): Promise<void> {
    while (this.dirty && !this.finished) {
      // The first real content goes out at once; later edits keep the per-message spacing.
      // So do updates of the queue line (it moves with every call granted ahead of it).
      const status = this.queuedLine !== '' || this.toolLine !== '';
      const hasContent = this.shown.length > 0 && (this.firstVisibleAt !== null || status);
      const wait = hasContent ? this.lastFlushAt + this.interval - this.now() : 0;
      if (wait > 0) await this.pause.sleep(wait);
      if (this.finished) return;
      await this.flush(false);
    }
  }

  private async flush(final: boolean): Promise<void> {
    this.dirty = false;
    for (let i = 0; ; i++) {
      if (!this.render(final, i)) break;
      const current = this.shown[i];
      try {
        if (!current) {
          await this.pace('post', this.shown.length === 0);
          // Rendered again after the wait (long in a busy channel): what goes out is what there is now.
          const part = this.render(final, i);
          if (!part) break;
          const message = await this.surface.post(part.text, {
            streaming: !part.final,
            feedback: part.feedback,
          });
          this.posts++;
          this.shown.push({ message, ...part });
          this.record.report(this.shown);
          this.typingIndicator.stop();
        } else if (changed(current, this.render(final, i))) {
          await this.pace('edit');
          // An answer that finished while this edit waited gets its final edit now instead of two.
          const part = this.render(final, i);
          if (!part || !changed(current, part)) continue;
          await this.surface.edit(current.message, part.text, { final: part.final, feedback: part.feedback });
          this.edits++;
          current.text = part.text;
          current.body = part.body;
          this.record.report(this.shown);
          current.final = part.final;
          current.feedback = part.feedback;
        }
      } catch (err) {
        this.deliveryErrors++;
        this.opts.log.warn({ err, part: i, final }, 'reply delivery failed; the next flush retries');
        this.dirty = true;
      }
    }
    this.lastFlushAt = this.now();
    if (this.firstVisibleAt === null && (this.answer || this.ending)) this.firstVisibleAt = this.now();
  }

  /** Message `i` of the reply as it would show now; undefined when there is none. */
  private render(final: boolean, i: number): Part | undefined {
    const full = this.visibleText();
    if (!full && this.shown.length === 0) return undefined;
    // Once the answer has finished (`finish` sets the ending first), every flush is a final one.
    return renderPart(full, i, {
      maxChars: this.surface.limits.maxChars,
      carriesAnswer: this.answer.length > this.nativeChars || this.ending !== '',
      final: final || this.finished,
      feedback: this.feedback,
    });
  }

  /**
   * Waits for the platform budget of this kind of request (posts may have a budget of their own). The
   * answer's first message goes ahead of other answers' edits: its asker sees nothing yet.
   */
  private pace(kind: 'post' | 'edit', start = false): Promise<void> {
    const { paceBucket, bucket, post } = this.surface.limits;
    if (kind === 'post' && post) return this.opts.pacer.acquire(post.key, post, { start });
    return this.opts.pacer.acquire(paceBucket, bucket, { start });
  }

  // ---- native streaming path ----

  private scheduleNative(): void {
    if (!this.nativeLoop && !this.finished)
      this.nativeLoop = this.runNative().finally(() => (this.nativeLoop = null));
  }

  private async runNative(): Promise<void> {
    const spacing = this.surface.native?.minAppendIntervalMs ?? 0;
    while (!this.finished && this.nativeState === 'active' && this.answer.length > this.nativeChars) {
      await this.appendNative(false);
      if (spacing > 0 && !this.finished) await this.pause.sleep(spacing);
    }
  }

  private exclusive(op: () => Promise<void>): Promise<void> {
    const run = this.nativeQueue.then(op);
    this.nativeQueue = run.catch(() => undefined);
    return run;
  }

  /** Tool progress as tasks of the native stream (opened for them when no text came yet). */
  private async sendTasks(updates: NativeTask[]): Promise<void> {
    const native = this.surface.native;
    if (!native || this.nativeState !== 'active') return;
    try {
      if (!this.native) {
        this.typingIndicator.stop();
        this.native = await native.open();
        this.nativeLen = 0;
      }
      await this.native.updateTasks?.(updates);
      this.edits++;
      this.record.noteNative(this.native.id, '', '', this.shown);
    } catch (err) {
      const running = this.progress.names;
      if (running.length && this.opts.toolText) this.toolLine = this.opts.toolText(running.join(', '));
      await this.nativeFailed(err);
    }
  }

  private appendNative(final: boolean): Promise<void> {
    return this.exclusive(() => this.appendNativeNow(final));
  }

  private async appendNativeNow(final: boolean): Promise<void> {
    const native = this.surface.native;
    if (!native || this.nativeState !== 'active') return;
    let pending = this.answer.slice(this.nativeChars);
    const apart = final && this.ending !== '' && native.ending !== undefined;
    if (final && this.ending && !apart) pending += this.answer ? `\n\n${this.ending}` : this.ending;
    try {
      while (pending) {
        if (!this.native || this.nativeLen >= native.maxChars) {
          if (this.native) await this.native.stop();
          this.typingIndicator.stop();
          this.native = await native.open();
          this.nativeLen = 0;
        }
        const room = native.maxChars - this.nativeLen;
        const piece = pending.slice(0, room);
        await this.native.append(piece);
        this.edits++;
        if (this.firstVisibleAt === null) this.firstVisibleAt = this.now();
        this.nativeLen += piece.length;
        const fromAnswer = Math.min(piece.length, this.answer.length - this.nativeChars);
        const body = this.answer.slice(this.nativeChars, this.nativeChars + fromAnswer);
        this.record.noteNative(this.native.id, piece, body, this.shown);
        this.nativeChars += fromAnswer;
        pending = pending.slice(piece.length);
        if (final && pending.length === 0 && piece.length > fromAnswer) this.ending = '';
      }
      if (apart) {
        await native.ending?.(this.ending);
        this.ending = '';
      }
    } catch (err) {
      await this.nativeFailed(err);
    }
  }

  private async nativeFailed(err: unknown): Promise<void> {
    this.opts.log.warn({ err }, 'native streaming failed; continuing with post-and-edit');
    this.nativeState = 'failed';
    const broken = this.native;
    this.native = null;
    await broken?.stop().catch(() => undefined);
    if (!this.finished) this.schedule();
  }
}
