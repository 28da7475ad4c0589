import { randomUUID } from 'node:crypto';
import type { Usage } from '../qwen/client.ts';
import type { Store } from '../store/index.ts';
import { storeCall } from '../store/index.ts';

export type TurnStatus = 'complete' | 'error' | 'stopped' | 'interrupted';

/** Which side DashScope's content moderation refused: the request's input, or the answer's output. */
export type Refusal = 'input' | 'output';

export interface Turn {
  role: 'user' | 'assistant';
  text: string;
  /** Epoch ms. */
  at: number;
  /** Speaker (user turns): platform id and display name. */
  authorId?: string;
  author?: string;
  /** Number of images the user attached (the bytes are not kept). */
  images?: number;
  /** Assistant turns: which model answered, how it ended, what it cost. */
  model?: string;
  status?: TurnStatus;
  usage?: Usage;
  /**
   * Content moderation refused this exchange: prompts leave out this answer and the user turn it
   * answered, because DashScope inspects the whole input and would refuse every later request.
   */
  refused?: Refusal;
}

export interface HistoryOptions {
  maxTurns: number;
  retentionMs: number;
}

/**
 * Where a conversation's turns are: sequence numbers `head` (oldest that may still exist) to `next`
 * (the one the next append takes), exclusive. Keys in between may be missing (expired, forgotten).
 */
export interface HistoryMeta {
  head: number;
  next: number;
  /**
   * Made when the meta is created (first turn, or the first after /reset): an answer slot reserved in
   * one generation is never filled in a later one, whose sequence numbers start over.
   */
  generation?: string;
}

/** A stored turn and its sequence number. */
export interface StoredTurn {
  seq: number;
  turn: Turn;
}

/** Where a question's answer goes: the slot right after the question, in the history it was asked in. */
export interface AnswerSlot {
  seq: number;
  generation: string;
}

/** The layout before v2: the whole history in one blob, rewritten on every append. */
interface StoredHistoryV1 {
  turns: Turn[];
}

/**
 * Conversation history, one store key per turn, so storing a turn writes only that turn:
 * `hist:v2:meta:<conversation>` holds `{head, next}` and `hist:v2:turn:<conversation>:<seq>` one turn.
 * Bytes written and store round trips per append do not depend on how long the conversation is; reading
 * the turns is one meta read and one `getMany` (one SQL query on SQLite, one MGET on Redis).
 *
 * - Capped: an append that takes the window past `maxTurns` deletes the turn keys that fall off.
 * - Expiring: every key is written with `retentionMs`; the meta is refreshed on each append, so it
 *   outlives every turn. A turn therefore lives `retentionMs` after it was written; readers skip turns
 *   that are gone.
 * - Old `hist:v1:<conversation>` blobs are migrated on first touch (written as v2, then deleted),
 *   keeping their remaining lifetime.
 *
 * Callers serialise writes to one conversation (its queue and, with several instances, its
 * cross-instance turn): two appends racing would read the same `next` and one turn would overwrite the
 * other. `/forget` and `/reset` must take the same turn. A question reserves the slot of its answer
 * (`appendQuestion`), so answers streamed side by side are stored in their questions' order whenever
 * they finish (`storeAnswer`, also in the conversation's turn).
 */
export class HistoryStore {
  private readonly store: Store;
  private readonly opts: HistoryOptions;

  constructor(store: Store, opts: HistoryOptions) {
    this.store = store;
    this.opts = opts;
  }

  static metaKey(conversation: string): string {
    return `hist:v2:meta:${conversation}`;
  }

  static turnKey(conversation: string, seq: number): string {
    return `hist:v2:turn:${conversation}:${seq}`;
  }

  static v1Key(conversation: string): string {
    return `hist:v1:${conversation}`;
  }

  /** The meta in a value read from `metaKey` (with other keys, by the caller), if it is one. */
  static readMeta(value: unknown): HistoryMeta | undefined {
    if (!isMeta(value)) return undefined;
    const { head, next, generation } = value;
    return { head, next, ...(generation ? { generation } : {}) };
  }

  /**
   * The stored turns, oldest first: one meta read and one batched read of the turn keys. With
   * `before`, only the turns in slots before it (an answer's prompt: what arrived before its question's
   * answer slot, not what arrived after). `known`: the meta as it was written with that question; the
   * meta is then read in the same batch as the turns (one round trip) to check its generation.
   */
  async load(conversation: string, before?: AnswerSlot, known?: HistoryMeta): Promise<Turn[]> {
    const entries = await this.entries(conversation, before, known);
    return entries.map((e) => e.turn);
  }

  /**
   * The turns a question's prompt holds before the question itself, read beside the question's write
   * (one round trip before the model call instead of two in a row): `known` is the meta that write
   * starts from, read in this conversation's turn. Undefined when that cannot be told apart from a
   * reset (a meta from before generations): the caller then reads after the write (`load`). Filter
   * the result by the written meta's `head`: the write may trim the oldest turn.
   */
  async loadBeside(conversation: string, known: HistoryMeta): Promise<StoredTurn[] | undefined> {
    if (!known.generation) return undefined;
    if (known.next <= known.head) return [];
    return this.entriesBefore(conversation, { seq: known.next, generation: known.generation }, known);
  }

  /**
   * Stores one turn: a meta read (none when the caller passes the meta it read in this conversation's
   * turn), the deletion of a turn that falls off the cap, one batched write. Returns the new meta.
   */
  async append(conversation: string, turn: Turn, known?: HistoryMeta): Promise<HistoryMeta> {
    return (await this.write(conversation, turn, 1, known)).meta;
  }

  /**
   * Stores a user's turn and reserves the slot after it for its answer, so answers to several
   * questions can be written in any order while history keeps the order the questions arrived in.
   * Returns the slot and the meta as written (for `load` of the answer's prompt).
   */
  async appendQuestion(
    conversation: string,
    turn: Turn,
    known?: HistoryMeta | null,
  ): Promise<{ slot: AnswerSlot; meta: HistoryMeta }> {
    const { at, meta } = await this.write(conversation, turn, 2, known);
    return { slot: { seq: at.seq + 1, generation: at.generation }, meta };
  }

  /**
   * Fills a reserved answer slot; false (nothing written) when the slot is no longer there: the history
   * was reset since (another generation), the slot fell off the cap, or its question was forgotten.
   * The caller holds the conversation's turn, so nothing clears the history between check and write.
   */
  async storeAnswer(conversation: string, slot: AnswerSlot, turn: Turn): Promise<boolean> {
    const metaKey = HistoryStore.metaKey(conversation);
    const [meta, question] = await guard('load history', () =>
      this.store.getMany<unknown>([metaKey, HistoryStore.turnKey(conversation, slot.seq - 1)]),
    );
    if (!isMeta(meta) || meta.generation !== slot.generation) return false;
    if (slot.seq < meta.head || slot.seq >= meta.next || !isTurn(question)) return false;
    const ttl = this.opts.retentionMs;
    // The meta is written again so it keeps outliving every turn it covers.
    await guard('save history', () =>
      this.store.setMany([
        { key: HistoryStore.turnKey(conversation, slot.seq), value: turn, ttl },
        { key: metaKey, value: meta, ttl },
      ]),
    );
    return true;
  }

  /** Writes `turn` at `next` and advances `next` by `slots`; returns where it went and the new meta. */
  private async write(
    conversation: string,
    turn: Turn,
    slots: number,
    known?: HistoryMeta | null,
  ): Promise<{ at: AnswerSlot; meta: HistoryMeta }> {
    // null: the caller's read found no history in either layout (see readTurnStart).
    const stored = known === null ? undefined : (known ?? (await this.meta(conversation)));
    const meta = stored ?? { head: 0, next: 0 };
    const generation = meta.generation ?? randomUUID();
    const next = meta.next + slots;
    const head = Math.max(meta.head, next - this.opts.maxTurns);
    // Delete first: if the write below fails, nothing is left outside the window that /forget reads.
    if (head > meta.head) await this.deleteKeys('trim history', this.turnKeys(conversation, meta.head, head));
    const ttl = this.opts.retentionMs;
    await guard('save history', () =>
      this.store.setMany([
        { key: HistoryStore.turnKey(conversation, meta.next), value: turn, ttl },
        {
          key: HistoryStore.metaKey(conversation),
          value: { head, next, generation } satisfies HistoryMeta,
          ttl,
        },
      ]),
    );
    return { at: { seq: meta.next, generation }, meta: { head, next, generation } };
  }

  /** Removes a user's turns and the answers that followed them; returns how many turns went. */
  async removeUser(conversation: string, userId: string): Promise<number> {
    const entries = await this.entries(conversation);
    const gone = spokenBy(entries, (e) => e.turn, userId).map((e) => e.seq);
    // A v1 blob next to v2 data (written by an older instance sharing the store) is cleaned too.
    const legacy = await this.removeUserV1(conversation, userId);
    if (gone.length === 0) return legacy;
    const keys =
      gone.length === entries.length
        ? await this.v2Keys(conversation)
        : gone.map((seq) => HistoryStore.turnKey(conversation, seq));
    await this.deleteKeys('forget history', keys);
    return gone.length + legacy;
  }

  /** Whether `slot` (a question's answer) is still in the history: no `/reset` since it was reserved. */
  async holds(conversation: string, slot: AnswerSlot): Promise<boolean> {
    const meta = await this.meta(conversation);
    return !!meta && meta.generation === slot.generation && slot.seq >= meta.head && slot.seq < meta.next;
  }

  /** Deletes every key of the conversation (meta, turns, a v1 blob), without reading the turns. */
  async clear(conversation: string): Promise<void> {
    const keys = [...(await this.v2Keys(conversation)), HistoryStore.v1Key(conversation)];
    await this.deleteKeys('clear history', keys);
  }

  /** The meta key and every turn key it covers, plus `next`: a turn whose append's meta write failed. */
  private async v2Keys(conversation: string): Promise<string[]> {
    const meta = await guard('clear history', () =>
      this.store.get<HistoryMeta>(HistoryStore.metaKey(conversation)),
    );
    const keys = [HistoryStore.metaKey(conversation)];
    if (isMeta(meta)) keys.push(...this.turnKeys(conversation, meta.head, meta.next + 1));
    return keys;
  }

  private async entries(
    conversation: string,
    before?: AnswerSlot,
    known?: HistoryMeta,
  ): Promise<StoredTurn[]> {
    if (before && known) return this.entriesBefore(conversation, before, known);
    const meta = await this.meta(conversation);
    // A slot of an earlier generation: everything stored now arrived after its question.
    if (!meta || (before && meta.generation !== before.generation)) return [];
    const end = Math.min(meta.next, before?.seq ?? Number.POSITIVE_INFINITY);
    if (end <= meta.head) return [];
    const keys = this.turnKeys(conversation, meta.head, end);
    const values = await guard('load history', () => this.store.getMany<Turn>(keys));
    const entries: StoredTurn[] = [];
    values.forEach((turn, i) => {
      if (isTurn(turn)) entries.push({ seq: meta.head + i, turn });
    });
    return entries;
  }

  /**
   * The turns before `before`, read in one batch with the meta: `known` (written with the question)
   * says which keys to read; the meta read beside them says whether they are still that generation's.
   */
  private async entriesBefore(
    conversation: string,
    before: AnswerSlot,
    known: HistoryMeta,
  ): Promise<StoredTurn[]> {
    const keys = [HistoryStore.metaKey(conversation), ...this.turnKeys(conversation, known.head, before.seq)];
    const [meta, ...values] = await guard('load history', () => this.store.getMany<unknown>(keys));
    if (!isMeta(meta) || meta.generation !== before.generation) return [];
    const entries: StoredTurn[] = [];
    values.forEach((turn, i) => {
      const seq = known.head + i;
      if (seq >= meta.head && isTurn(turn)) entries.push({ seq, turn });
    });
    return entries;
  }

  /** The conversation's meta; a v1 blob found instead is migrated first. */
  private async meta(conversation: string): Promise<HistoryMeta | undefined> {
    const meta = await guard('load history', () =>
      this.store.get<HistoryMeta>(HistoryStore.metaKey(conversation)),
    );
    if (isMeta(meta)) return meta;
    return this.migrateV1(conversation);
  }

  private async migrateV1(conversation: string): Promise<HistoryMeta | undefined> {
    const v1Key = HistoryStore.v1Key(conversation);
    const raw = await guard('load history', () => this.store.getRaw<StoredHistoryV1>(v1Key));
    if (!raw) return undefined;
    const turns = (Array.isArray(raw.value?.turns) ? raw.value.turns : []).filter(isTurn);
    if (turns.length === 0) {
      await this.deleteKeys('migrate history', [v1Key]);
      return undefined;
    }
    const kept = turns.slice(-this.opts.maxTurns);
    // Keep the blob's remaining lifetime: migrating must not extend how long old words are kept.
    const left = typeof raw.expires === 'number' ? raw.expires - Date.now() : this.opts.retentionMs;
    const ttl = Math.max(1, Math.min(left, this.opts.retentionMs));
    const meta: HistoryMeta = { head: 0, next: kept.length, generation: randomUUID() };
    await guard('migrate history', () =>
      this.store.setMany([
        ...kept.map((turn, seq) => ({ key: HistoryStore.turnKey(conversation, seq), value: turn, ttl })),
        { key: HistoryStore.metaKey(conversation), value: meta, ttl },
      ]),
    );
    await this.deleteKeys('migrate history', [v1Key]);
    return meta;
  }

  private async removeUserV1(conversation: string, userId: string): Promise<number> {
    const v1Key = HistoryStore.v1Key(conversation);
    const raw = await guard('load history', () => this.store.getRaw<StoredHistoryV1>(v1Key));
    const turns = Array.isArray(raw?.value?.turns) ? raw.value.turns.filter(isTurn) : [];
    const gone = new Set(spokenBy(turns, (t) => t, userId));
    if (gone.size === 0) return 0;
    const kept = turns.filter((t) => !gone.has(t));
    const ttl =
      typeof raw?.expires === 'number' ? Math.max(1, raw.expires - Date.now()) : this.opts.retentionMs;
    if (kept.length === 0) await this.deleteKeys('forget history', [v1Key]);
    else await guard('forget history', () => this.store.set(v1Key, { turns: kept }, ttl));
    return gone.size;
  }

  private turnKeys(conversation: string, from: number, to: number): string[] {
    const keys: string[] = [];
    for (let seq = from; seq < to; seq++) keys.push(HistoryStore.turnKey(conversation, seq));
    return keys;
  }

  private async deleteKeys(what: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await guard(what, () => this.store.deleteMany(keys));
  }
}

/** A user's turns and the answers that followed each of them, in order. */
function spokenBy<T>(items: T[], turnOf: (item: T) => Turn, userId: string): T[] {
  let dropping = false;
  return items.filter((item) => {
    const turn = turnOf(item);
    if (turn.role === 'user') dropping = turn.authorId === userId;
    return dropping;
  });
}

function isMeta(value: unknown): value is HistoryMeta {
  const m = value as HistoryMeta | undefined;
  return Number.isSafeInteger(m?.head) && Number.isSafeInteger(m?.next);
}

function isTurn(value: unknown): value is Turn {
  const t = value as Turn | undefined;
  return (t?.role === 'user' || t?.role === 'assistant') && typeof t.text === 'string';
}

/** Runs a store call; a failure becomes a StoreError naming what was being done. */
export const guard = storeCall;
