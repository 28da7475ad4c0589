import type { Store } from '../store/index.ts';
import { guard } from './history.ts';
import { type ConversationRef, conversationKey } from './types.ts';

/** Per-conversation choices that survive restarts. */
export interface ConversationSettings {
  model?: string;
  systemPrompt?: string;
  thinking?: boolean;
  /** How much the model may think when thinking is on (`qwen.thinkingBudgets`); unset: the model's maximum. */
  thinkingLevel?: ThinkingLevel;
  search?: boolean;
  /** An admin's switch per tool server (`/tools enable|disable`): true on, false off; unset: inherited. */
  tools?: Record<string, boolean>;
  /** Whether the bot answers every message here or only mentions (`/channel mode`); unset: mentions. */
  mode?: ChannelMode;
}

/**
 * A thread's settings on top of its channel's (or a conversation's on top of any lower layer): the
 * thread's own values win, and per-server tool switches are merged one server at a time, so switching
 * one server in a thread does not drop the channel's switch of another.
 */
export function inheritSettings(
  parent: ConversationSettings,
  own: ConversationSettings,
): ConversationSettings {
  const merged = { ...parent, ...own };
  if (parent.tools && own.tools) merged.tools = { ...parent.tools, ...own.tools };
  return merged;
}

export type ChannelMode = 'all' | 'mentions';

export type ThinkingLevel = 'low' | 'high' | 'max';

/** A cached value and when its stored row expires (undefined: never). */
interface Cached {
  value: ConversationSettings;
  expires?: number;
}

/**
 * Settings per conversation (and per workspace, for defaults). When this process is the only writer
 * (SQLite), reads are served from a write-through cache; with a shared store every read goes to it.
 * A conversation's settings expire `retentionMs` after their last change; workspace defaults (keys
 * `platform:workspace`, see `workspaceKey`) are an admin's configuration and are kept until changed.
 */
export class SettingsStore {
  private readonly store: Store;
  private readonly cache: Map<string, Cached> | undefined;
  private readonly retentionMs: number | undefined;
  private readonly now: () => number;

  constructor(store: Store, options: { cache?: boolean; retentionMs?: number; now?: () => number } = {}) {
    this.store = store;
    this.cache = options.cache ? new Map() : undefined;
    this.retentionMs = options.retentionMs;
    this.now = options.now ?? Date.now;
  }

  static key(conversation: string): string {
    return `settings:v1:${conversation}`;
  }

  async get(conversation: string): Promise<ConversationSettings> {
    const cached = this.cache?.get(conversation);
    if (cached && (cached.expires === undefined || cached.expires > this.now())) return { ...cached.value };
    const key = SettingsStore.key(conversation);
    const raw = await guard('load settings', () => this.store.get<ConversationSettings>(key, { raw: true }));
    const loaded = raw?.value ?? {};
    this.remember(conversation, { value: loaded, expires: raw?.expires ?? undefined });
    return { ...loaded };
  }

  /**
   * Several conversations' settings (e.g. a thread, its channel, the workspace defaults), plus the
   * values of `alsoRead` store keys, in one store read of everything not cached.
   */
  async loadWith(
    conversations: string[],
    alsoRead: string[] = [],
  ): Promise<{ settings: ConversationSettings[]; also: unknown[] }> {
    const now = this.now();
    const settings = conversations.map((conversation) => {
      const cached = this.cache?.get(conversation);
      const live = cached && (cached.expires === undefined || cached.expires > now);
      return live ? { ...cached.value } : undefined;
    });
    const missing = conversations.flatMap((_, i) => (settings[i] === undefined ? [i] : []));
    const keys = [...missing.map((i) => SettingsStore.key(conversations[i] as string)), ...alsoRead];
    const raw = keys.length ? await guard('load settings', () => this.store.getManyRaw(keys)) : [];
    missing.forEach((at, i) => {
      const row = raw[i] as { value?: ConversationSettings; expires?: number | null } | undefined;
      const loaded = row?.value ?? {};
      this.remember(conversations[at] as string, { value: loaded, expires: row?.expires ?? undefined });
      settings[at] = { ...loaded };
    });
    const also = raw.slice(missing.length).map((row) => (row as { value?: unknown } | undefined)?.value);
    return { settings: settings as ConversationSettings[], also };
  }

  /** A thread's settings on top of its channel's: a thread started under a channel inherits its choices. */
  async resolve(ref: ConversationRef): Promise<ConversationSettings> {
    const own = await this.get(conversationKey(ref));
    if (!ref.thread) return own;
    const parent = await this.get(conversationKey({ ...ref, thread: undefined }));
    return inheritSettings(parent, own);
  }

  async update(conversation: string, patch: Partial<ConversationSettings>): Promise<ConversationSettings> {
    const next = { ...(await this.get(conversation)), ...patch };
    for (const k of Object.keys(next) as Array<keyof ConversationSettings>)
      if (next[k] === undefined) delete next[k];
    const ttl = this.ttlOf(conversation);
    await guard('save settings', () => this.store.set(SettingsStore.key(conversation), next, ttl));
    this.cache?.delete(conversation);
    this.remember(conversation, { value: next, expires: ttl === undefined ? undefined : this.now() + ttl });
    return { ...next };
  }

  async clear(conversation: string): Promise<void> {
    this.cache?.delete(conversation);
    await guard('delete settings', () => this.store.delete(SettingsStore.key(conversation)));
  }

  /** Workspace keys have two parts (`platform:workspace`); conversation keys at least three. */
  private ttlOf(key: string): number | undefined {
    return key.split(':').length <= 2 ? undefined : this.retentionMs;
  }

  private remember(conversation: string, value: Cached): void {
    if (!this.cache) return;
    // Bounded: the oldest entries go first (a Map keeps insertion order).
    if (this.cache.size >= 10_000) this.cache.delete(this.cache.keys().next().value ?? '');
    this.cache.set(conversation, value);
  }
}
