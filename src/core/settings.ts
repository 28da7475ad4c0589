import type { Store } from '../store/index.ts';
import { guard } from './history.ts';

/** Per-conversation choices that survive restarts. */
export interface ConversationSettings {
  model?: string;
  systemPrompt?: string;
  thinking?: boolean;
  search?: boolean;
}

export class SettingsStore {
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  static key(conversation: string): string {
    return `settings:v1:${conversation}`;
  }

  async get(conversation: string): Promise<ConversationSettings> {
    return (
      (await guard('load settings', () =>
        this.store.get<ConversationSettings>(SettingsStore.key(conversation)),
      )) ?? {}
    );
  }

  async update(conversation: string, patch: Partial<ConversationSettings>): Promise<ConversationSettings> {
    const next = { ...(await this.get(conversation)), ...patch };
    for (const k of Object.keys(next) as Array<keyof ConversationSettings>)
      if (next[k] === undefined) delete next[k];
    await guard('save settings', () => this.store.set(SettingsStore.key(conversation), next));
    return next;
  }
}
