import type { Config } from '../config/schema.ts';
import { t } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/index.ts';
import { inBackground } from '../store/statement-lanes.ts';
import { type AnswerSlot, type HistoryStore, guard as storeCall, type Turn } from './history.ts';
import { type ConversationRef, conversationKey } from './types.ts';

/** One message of an answer as it landed on the platform (the text of its last successful post/edit). */
export interface ShownMessage {
  id: string;
  /** What the message shows. */
  text: string;
  /** The part of the answer it carries ('' while it shows only a placeholder or "thinking…"). */
  body: string;
  /** A native stream (Slack chat.startStream) rather than a posted-and-edited message. */
  native?: boolean;
}

/** An answer being streamed, as recorded so a crash can be repaired on the next start. */
export interface InflightAnswer {
  conversation: ConversationRef;
  startedAt: number;
  /** Every message of the answer, in order. */
  messages: ShownMessage[];
  /** The history slot reserved for the answer (records written before slots existed have none). */
  slot?: AnswerSlot;
}

/** Edits a message the bot posted earlier, outside any live reply. Adapters provide one. */
export interface MessageEditor {
  platform: string;
  maxChars: number;
  editMessage(conversation: ConversationRef, messageId: string, text: string): Promise<void>;
  /** Posts a new message in the conversation (the interruption line when it does not fit the last one). */
  postMessage?(conversation: ConversationRef, text: string): Promise<void>;
  /**
   * Ends a native stream the last run left open by appending `line`; when the platform no longer
   * accepts the stream, replaces the message with `shown` followed by `line` instead.
   */
  endStream?(conversation: ConversationRef, messageId: string, line: string, shown: string): Promise<void>;
}

/** What is kept per answer besides its message texts (message ids change rarely; texts on every edit). */
interface StoredAnswer {
  conversation: ConversationRef;
  startedAt: number;
  ids: string[];
  native: boolean[];
  slot?: AnswerSlot;
}

/** The previous layout (one array of every answer, rewritten on each save), read once after an upgrade. */
interface LegacyRecord {
  conversation: ConversationRef;
  messageId: string;
  text: string;
  startedAt: number;
}

/** Leftovers of an instance that never starts again disappear on their own. */
const RECORD_TTL_MS = 7 * 86_400_000;

/** One answer's pending writes: the newest state, and what the store already has. */
interface Tracked {
  latest: InflightAnswer;
  writtenTexts: string[];
  writtenMeta: string;
  chain: Promise<void>;
  writing: boolean;
  dirty: boolean;
  done: boolean;
}

/**
 * Records the answers this instance is streaming, so the next start can repair the ones a crash cut.
 * Layout under `inflight:v2:<instance>`: the key itself lists the answer ids; `…:a:<answer>` holds
 * the answer's conversation and message ids; `…:t:<answer>:<n>` the text message n showed last. A landed
 * edit writes only the text of the message it changed, so the cost of a write does not grow with the
 * number of answers streaming or the length of the answer, and writes follow the platform's edit rate.
 * Writes of one answer are serialised and collapse to its newest state while one is in flight.
 */
export class InflightTracker {
  private readonly store: Store;
  private readonly prefix: string;
  private readonly legacyKey: string;
  private readonly log: Logger;
  private readonly answers = new Map<string, Tracked>();
  /** Answer ids a previous run left in the index, kept in it until they are repaired. */
  private inherited: Promise<Set<string>> | null = null;
  private indexChain: Promise<void> = Promise.resolve();
  private indexWriting = false;
  private indexDirty = false;

  constructor(store: Store, instanceId: string, log: Logger) {
    this.store = store;
    this.prefix = `inflight:v2:${instanceId}`;
    this.legacyKey = `inflight:v1:${instanceId}`;
    this.log = log;
  }

  /** Called when a post or edit of the answer landed, with every message as it shows now. */
  update(answerId: string, answer: InflightAnswer): void {
    let tracked = this.answers.get(answerId);
    if (!tracked) {
      tracked = {
        latest: answer,
        writtenTexts: [],
        writtenMeta: '',
        chain: Promise.resolve(),
        writing: false,
        dirty: false,
        done: false,
      };
      this.answers.set(answerId, tracked);
      this.saveIndex();
    }
    tracked.latest = answer;
    this.saveAnswer(answerId, tracked);
  }

  /** The answer ended normally: its records go. */
  done(answerId: string): void {
    const tracked = this.answers.get(answerId);
    if (!tracked) return;
    tracked.done = true;
    this.saveAnswer(answerId, tracked);
  }

  /** Resolves when every write asked for so far has landed (shutdown awaits it before closing the store). */
  async flush(): Promise<void> {
    for (;;) {
      const pending = [this.indexChain, ...[...this.answers.values()].map((a) => a.chain)];
      await Promise.all(pending);
      const settled = !this.indexWriting && [...this.answers.values()].every((a) => !a.writing && !a.done);
      if (settled) return;
    }
  }

  private answerKey(answerId: string): string {
    return `${this.prefix}:a:${answerId}`;
  }

  private textKey(answerId: string, n: number): string {
    return `${this.prefix}:t:${answerId}:${n}`;
  }

  private saveAnswer(answerId: string, tracked: Tracked): void {
    if (tracked.writing) {
      tracked.dirty = true;
      return;
    }
    tracked.writing = true;
    // Crash-repair records are bookkeeping: on SQLite they give way to answers about to start.
    tracked.chain = inBackground(async () => {
      do {
        tracked.dirty = false;
        await this.writeAnswer(answerId, tracked).catch((err: unknown) =>
          this.log.warn({ err, answerId }, 'could not record an in-flight answer'),
        );
      } while (tracked.dirty);
      tracked.writing = false;
      if (tracked.done) {
        this.answers.delete(answerId);
        tracked.done = false;
        this.saveIndex();
      }
    });
  }

  private async writeAnswer(answerId: string, tracked: Tracked): Promise<void> {
    if (tracked.done) {
      const keys = [this.answerKey(answerId)];
      for (let n = 0; n < tracked.writtenTexts.length; n++) keys.push(this.textKey(answerId, n));
      if (tracked.writtenMeta || tracked.writtenTexts.length)
        await storeCall('clear an in-flight answer', () => this.store.delete(keys));
      return;
    }
    const { messages, conversation, startedAt, slot } = tracked.latest;
    const entries: Array<{ key: string; value: unknown; ttl: number }> = [];
    const texts = messages.map((m) => JSON.stringify([m.text, m.body]));
    texts.forEach((stored, n) => {
      const message = messages[n] as ShownMessage;
      if (tracked.writtenTexts[n] !== stored)
        entries.push({
          key: this.textKey(answerId, n),
          value: [message.text, message.body],
          ttl: RECORD_TTL_MS,
        });
    });
    const meta: StoredAnswer = {
      conversation,
      startedAt,
      ids: messages.map((m) => m.id),
      native: messages.map((m) => m.native === true),
      ...(slot ? { slot } : {}),
    };
    const metaText = JSON.stringify(meta);
    if (metaText !== tracked.writtenMeta)
      entries.push({ key: this.answerKey(answerId), value: meta, ttl: RECORD_TTL_MS });
    if (entries.length === 0) return;
    // One batch (one statement on SQLite, one MULTI on Redis): the ids never land without their texts.
    await storeCall('save in-flight answer', () => this.store.setMany(entries));
    texts.forEach((stored, n) => {
      tracked.writtenTexts[n] = stored;
    });
    tracked.writtenMeta = metaText;
  }

  /** The ids of live answers plus those a previous run left, collapsed to one write in flight. */
  private saveIndex(): void {
    if (this.indexWriting) {
      this.indexDirty = true;
      return;
    }
    this.indexWriting = true;
    this.indexChain = inBackground(async () => {
      do {
        this.indexDirty = false;
        const inherited = await this.loadInherited().catch(() => new Set<string>());
        const ids = [...new Set([...inherited, ...this.answers.keys()])];
        await storeCall('save in-flight answers', () =>
          ids.length ? this.store.set(this.prefix, ids, RECORD_TTL_MS) : this.store.delete(this.prefix),
        ).catch((err: unknown) => this.log.warn({ err }, 'could not record in-flight answers'));
      } while (this.indexDirty);
      this.indexWriting = false;
    });
  }

  private loadInherited(): Promise<Set<string>> {
    this.inherited ??= storeCall('load in-flight answers', () => this.store.get<string[]>(this.prefix)).then(
      (ids) => new Set(Array.isArray(ids) ? ids : []),
    );
    return this.inherited;
  }

  /** Answers left by a previous run of this instance (it crashed). `release` drops their records. */
  async takeOrphans(): Promise<{ orphans: InflightAnswer[]; release: () => Promise<void> }> {
    const inherited = await this.loadInherited();
    const ids = [...inherited].filter((id) => !this.answers.has(id));
    const metas = ids.length
      ? await storeCall('load in-flight answers', () =>
          this.store.getMany<StoredAnswer>(ids.map((id) => this.answerKey(id))),
        )
      : [];
    const orphans: InflightAnswer[] = [];
    const keys: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const meta = metas[i];
      const id = ids[i] as string;
      keys.push(this.answerKey(id));
      if (!meta || !Array.isArray(meta.ids)) continue;
      const textKeys = meta.ids.map((_, n) => this.textKey(id, n));
      keys.push(...textKeys);
      const texts = textKeys.length
        ? await storeCall('load in-flight answer', () => this.store.getMany<[string, string]>(textKeys))
        : [];
      const messages: ShownMessage[] = meta.ids.map((messageId, n) => {
        const [text, body] = texts[n] ?? ['', ''];
        return { id: messageId, text, body, ...(meta.native[n] ? { native: true } : {}) };
      });
      orphans.push({
        conversation: meta.conversation,
        startedAt: meta.startedAt,
        messages,
        ...(isSlot(meta.slot) ? { slot: meta.slot } : {}),
      });
    }
    const legacy = await storeCall('load in-flight answers', () =>
      this.store.get<LegacyRecord[]>(this.legacyKey),
    );
    for (const record of Array.isArray(legacy) ? legacy : []) {
      orphans.push({
        conversation: record.conversation,
        startedAt: record.startedAt,
        messages: [{ id: record.messageId, text: record.text, body: record.text }],
      });
    }
    const release = async () => {
      for (const id of ids) inherited.delete(id);
      this.saveIndex();
      await this.indexChain;
      await storeCall('clear in-flight answers', () => this.store.delete([...keys, this.legacyKey]));
    };
    return { orphans, release };
  }
}

export interface RepairDeps {
  tracker: InflightTracker;
  editors: MessageEditor[];
  history: HistoryStore;
  config: Config;
  log: Logger;
  now: () => number;
  /** Runs the repair of one conversation in its turn (the service's per-conversation queue). */
  inTurn?: <T>(conversation: string, task: () => Promise<T>) => Promise<T>;
}

/**
 * After a crash: every answer the previous run of this instance was streaming keeps everything it
 * showed and ends with an "interrupted" line (an open native stream gets the line and is stopped), and
 * the partial answer — all its messages — is stored as interrupted. The user's turn was stored before
 * the model was called, so it is already in history.
 */
export async function repairInterrupted(deps: RepairDeps): Promise<number> {
  const { orphans, release } = await deps.tracker.takeOrphans();
  const line = t(deps.config.locale, 'status.interrupted');
  const placeholder = deps.config.streaming.placeholder;
  let fixed = 0;
  async function repairOne(answer: InflightAnswer): Promise<void> {
    const editor = deps.editors.find((e) => e.platform === answer.conversation.platform);
    const last = answer.messages.at(-1);
    if (editor && last) {
      try {
        await endWithLine(editor, answer.conversation, last, line);
        fixed++;
      } catch (err) {
        deps.log.warn(
          { err, conversation: answer.conversation, messageId: last.id },
          'could not repair an interrupted answer',
        );
      }
    }
    // Stored even when the message could not be edited: the words were seen.
    const text = answer.messages
      .map((m) => (m.body === placeholder ? '' : m.body))
      .join('')
      .trim();
    const key = conversationKey(answer.conversation);
    const turn: Turn = { role: 'assistant', text, at: deps.now(), status: 'interrupted' };
    // Into the slot its question reserved (not stored when the conversation was reset since); a record
    // from before slots existed is appended as it always was.
    const stored = answer.slot
      ? deps.history.storeAnswer(key, answer.slot, turn)
      : deps.history.append(key, turn);
    await stored.catch((err: unknown) =>
      deps.log.warn({ err, conversation: answer.conversation }, 'could not store an interrupted answer'),
    );
  }
  const inTurn = deps.inTurn ?? ((_key, task) => task());
  await Promise.all(
    orphans.map((answer) => inTurn(conversationKey(answer.conversation), () => repairOne(answer))),
  );
  await release();
  if (orphans.length)
    deps.log.info({ found: orphans.length, fixed }, 'repaired answers interrupted by the last run');
  else deps.log.info('no answer was interrupted by the last run');
  return fixed;
}

function isSlot(value: unknown): value is AnswerSlot {
  const slot = value as AnswerSlot | undefined;
  return Number.isSafeInteger(slot?.seq) && typeof slot?.generation === 'string';
}

/** The last message keeps what it showed and gains the line (in a message of its own when it is full). */
async function endWithLine(
  editor: MessageEditor,
  conversation: ConversationRef,
  last: ShownMessage,
  line: string,
): Promise<void> {
  // A message that showed only a placeholder or "thinking…" had none of the answer: the line replaces it.
  const shown = last.body ? last.text : '';
  if (last.native && editor.endStream) {
    await editor.endStream(conversation, last.id, line, shown);
    return;
  }
  const ended = shown ? `${shown}\n\n${line}` : line;
  if (ended.length <= editor.maxChars || !editor.postMessage) {
    await editor.editMessage(conversation, last.id, ended.length <= editor.maxChars ? ended : shown);
    return;
  }
  // Edited to what it showed (a Stop button goes), then the line below it.
  await editor.editMessage(conversation, last.id, shown);
  await editor.postMessage(conversation, line);
}
