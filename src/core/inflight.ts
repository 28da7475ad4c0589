import type { Config } from '../config/schema.ts';
import { t } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/index.ts';
import { type HistoryStore, guard as storeCall } from './history.ts';
import { type ConversationRef, conversationKey } from './types.ts';

/** An answer being streamed, as recorded so a crash can be repaired on the next start. */
export interface InflightRecord {
  conversation: ConversationRef;
  /** The message that was last being edited, and what it showed. */
  messageId: string;
  text: string;
  startedAt: number;
}

/** Edits a message the bot posted earlier, outside any live reply. Adapters provide one. */
export interface MessageEditor {
  platform: string;
  maxChars: number;
  editMessage(conversation: ConversationRef, messageId: string, text: string): Promise<void>;
}

const SAVE_EVERY_MS = 5000;

/**
 * Keeps `inflight:v1:<instance>` up to date with the answers this instance is streaming. Writes are
 * serialised and throttled: text updates reach the store at most every 5 s.
 */
export class InflightTracker {
  private readonly store: Store;
  private readonly key: string;
  private readonly log: Logger;
  private readonly records = new Map<string, InflightRecord>();
  private lastSave = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  constructor(store: Store, instanceId: string, log: Logger) {
    this.store = store;
    this.key = `inflight:v1:${instanceId}`;
    this.log = log;
  }

  update(answerId: string, record: InflightRecord): void {
    const prev = this.records.get(answerId);
    this.records.set(answerId, record);
    // A new message, or the first words replacing a placeholder, are saved at once; later text at a pace.
    const urgent = !prev || prev.messageId !== record.messageId || prev.text.length < 20;
    if (urgent || Date.now() - this.lastSave >= SAVE_EVERY_MS) this.save();
    else if (!this.timer) this.timer = setTimeout(() => this.save(), SAVE_EVERY_MS);
  }

  done(answerId: string): void {
    if (this.records.delete(answerId)) this.save();
  }

  /** Resolves when the last write has landed. */
  flush(): Promise<void> {
    return this.chain;
  }

  private save(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastSave = Date.now();
    const snapshot = [...this.records.values()];
    this.chain = this.chain
      .then(() => storeCall('save in-flight answers', () => this.store.set(this.key, snapshot)))
      .then(
        () => undefined,
        (err: unknown) => this.log.warn({ err }, 'could not record in-flight answers'),
      );
  }

  /** Records left by a previous run of this instance (it crashed), removed from the store. */
  async takeOrphans(): Promise<InflightRecord[]> {
    const left =
      (await storeCall('load in-flight answers', () => this.store.get<InflightRecord[]>(this.key))) ?? [];
    await storeCall('clear in-flight answers', () => this.store.delete(this.key));
    return left;
  }
}

export interface RepairDeps {
  tracker: InflightTracker;
  editors: MessageEditor[];
  history: HistoryStore;
  config: Config;
  log: Logger;
  now: () => number;
}

/**
 * After a crash: every answer the previous run of this instance was streaming gets its last message
 * edited to end with an "interrupted" line, and the partial answer is stored as interrupted. The
 * user's turn was stored before the model was called, so it is already in history.
 */
export async function repairInterrupted(deps: RepairDeps): Promise<number> {
  const orphans = await deps.tracker.takeOrphans();
  const line = t(deps.config.locale, 'status.interrupted');
  let fixed = 0;
  for (const record of orphans) {
    const editor = deps.editors.find((e) => e.platform === record.conversation.platform);
    const room = Math.max(0, (editor?.maxChars ?? 2000) - line.length - 2);
    const body = record.text === deps.config.streaming.placeholder ? '' : record.text.slice(0, room);
    try {
      await editor?.editMessage(record.conversation, record.messageId, body ? `${body}\n\n${line}` : line);
      await deps.history.append(conversationKey(record.conversation), {
        role: 'assistant',
        text: body,
        at: deps.now(),
        status: 'interrupted',
      });
      if (editor) fixed++;
    } catch (err) {
      deps.log.warn(
        { err, conversation: record.conversation, messageId: record.messageId },
        'could not repair an interrupted answer',
      );
    }
  }
  if (orphans.length)
    deps.log.info({ found: orphans.length, fixed }, 'repaired answers interrupted by the last run');
  return fixed;
}
