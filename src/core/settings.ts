import type { Store } from '../store/index.ts';
import { guard } from './history.ts';
import { type ConversationRef, conversationKey } from './types.ts';

/** Per-conversation choices that survive restarts. */
export interface ConversationSettings {
  model?: string;
  systemPrompt?: string;
  thinking?: boolean;
  search?: boolean;
}

/**
 * Settings per conversation (and per workspace, for defaults). When this process is the only writer
 * (SQLite), reads are served from a write-through cache; with a shared store every read goes to it.
 */
export class SettingsStore {
  private readonly store: Store;
  private readonly cache: Map<string, ConversationSettings> | undefined;

  constructor(store: Store, options: { cache?: boolean } = {}) {
    this.store = store;
    this.cache = options.cache ? new Map() : undefined;
  }

  static key(conversation: string): string {
    return `settings:v1:${conversation}`;
  }

  async get(conversation: string): Promise<ConversationSettings> {
    const cached = this.cache?.get(conversation);
    if (cached) return { ...cached };
    const key = SettingsStore.key(conversation);
    const loaded = (await guard('load settings', () => this.store.get<ConversationSettings>(key))) ?? {};
    this.remember(conversation, loaded);
    return { ...loaded };
  }

  /** A thread's settings on top of its channel's: a thread started under a channel inherits its choices. */
  async resolve(ref: ConversationRef): Promise<ConversationSettings> {
    const own = await this.get(conversationKey(ref));
    if (!ref.thread) return own;
    const parent = await this.get(conversationKey({ ...ref, thread: undefined }));
    return { ...parent, ...own };
  }

  async update(conversation: string, patch: Partial<ConversationSettings>): Promise<ConversationSettings> {
    const next = { ...(await this.get(conversation)), ...patch };
    for (const k of Object.keys(next) as Array<keyof ConversationSettings>)
      if (next[k] === undefined) delete next[k];
    await guard('save settings', () => this.store.set(SettingsStore.key(conversation), next));
    this.cache?.delete(conversation);
    this.remember(conversation, next);
    return { ...next };
  }

  async clear(conversation: string): Promise<void> {
    this.cache?.delete(conversation);
    await guard('delete settings', () => this.store.delete(SettingsStore.key(conversation)));
  }

  private remember(conversation: string, value: ConversationSettings): void {
    if (!this.cache) return;
    // Bounded: the oldest entries go first (a Map keeps insertion order).
    if (this.cache.size >= 10_000) this.cache.delete(this.cache.keys().next().value ?? '');
    this.cache.set(conversation, value);
  }
}
