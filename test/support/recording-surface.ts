import type {
  EditOptions,
  FeedbackTag,
  NativeStream,
  PostedMessage,
  PostOptions,
  ReplySurface,
  SurfaceLimits,
} from '../../src/core/types.ts';

export interface SurfaceEvent {
  kind: 'post' | 'edit' | 'typing' | 'append' | 'open' | 'stop';
  id?: string;
  text?: string;
  at: number;
  final?: boolean;
  streaming?: boolean;
  /** The feedback buttons the call put on the message (a finished answer's last message). */
  feedback?: FeedbackTag;
}

/**
 * A reply surface that keeps what a person would see: each message's current text, its edit count,
 * and every call in order. Optional failures let tests play a platform that misbehaves.
 */
export class RecordingSurface implements ReplySurface {
  readonly limits: SurfaceLimits;
  readonly events: SurfaceEvent[] = [];
  readonly messages = new Map<string, string>();
  readonly editCounts = new Map<string, number>();
  showTyping?: () => Promise<void>;
  native?: ReplySurface['native'];
  /** Make the nth edit call (1-based) throw once. */
  failEditAt?: number;
  private edits = 0;
  private seq = 0;
  private readonly now: () => number;

  constructor(limits: Partial<SurfaceLimits> = {}, opts: { typing?: boolean; now?: () => number } = {}) {
    this.limits = { maxChars: 2000, minEditIntervalMs: 0, paceBucket: 'test', ...limits };
    this.now = opts.now ?? Date.now;
    if (opts.typing) {
      this.showTyping = async () => {
        this.events.push({ kind: 'typing', at: this.now() });
      };
    }
  }

  /** Gives the surface a native stream that fails after `failAfterAppends` appends (if set). */
  withNative(maxChars: number, failAfterAppends?: number): this {
    let appends = 0;
    this.native = {
      maxChars,
      minAppendIntervalMs: 0,
      open: async (): Promise<NativeStream> => {
        const id = `n${++this.seq}`;
        this.messages.set(id, '');
        this.events.push({ kind: 'open', id, at: this.now() });
        return {
          append: async (text: string) => {
            appends++;
            if (failAfterAppends !== undefined && appends > failAfterAppends)
              throw new Error('message_not_in_streaming_state');
            this.messages.set(id, (this.messages.get(id) ?? '') + text);
            this.events.push({ kind: 'append', id, text, at: this.now() });
          },
          stop: async (options?: { feedback?: FeedbackTag | undefined }) =>
            void this.events.push({ kind: 'stop', id, at: this.now(), ...feedbackOf(options) }),
        };
      },
    };
    return this;
  }

  async post(text: string, options?: PostOptions): Promise<PostedMessage> {
    const id = `p${++this.seq}`;
    this.messages.set(id, text);
    this.editCounts.set(id, 0);
    this.events.push({
      kind: 'post',
      id,
      text,
      at: this.now(),
      streaming: options?.streaming,
      ...feedbackOf(options),
    });
    return { id };
  }

  async edit(message: PostedMessage, text: string, options?: EditOptions): Promise<void> {
    this.edits++;
    if (this.failEditAt === this.edits) throw new Error('HTTP 429: rate limited');
    if (text.length > this.limits.maxChars) throw new Error(`edit over ${this.limits.maxChars} characters`);
    this.messages.set(message.id, text);
    this.editCounts.set(message.id, (this.editCounts.get(message.id) ?? 0) + 1);
    this.events.push({
      kind: 'edit',
      id: message.id,
      text,
      at: this.now(),
      final: options?.final,
      ...feedbackOf(options),
    });
  }

  /** The messages as the channel shows them now, in posting order. */
  shown(): string[] {
    return [...this.messages.values()];
  }

  /** Everything shown, joined as one reads it. */
  transcript(): string {
    return this.shown().join('');
  }

  get editCount(): number {
    return [...this.editCounts.values()].reduce((a, b) => a + b, 0);
  }
}

const feedbackOf = (options?: { feedback?: FeedbackTag | undefined }) =>
  options?.feedback ? { feedback: options.feedback } : {};
