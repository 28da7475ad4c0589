import type { Config } from '../config/schema.ts';
import { t } from '../i18n.ts';
import type { Store } from '../store/index.ts';
import type { CommandSpec } from './commands/registry.ts';
import { guard, type HistoryStore } from './history.ts';
import type { SettingsStore } from './settings.ts';
import type { ConversationRef } from './types.ts';
import type { UsageStore } from './usage.ts';

interface UserIndex {
  /** Conversation keys the user has spoken in, and whether each is the user's DM. */
  conversations: Record<string, { dm: boolean }>;
}

/**
 * Remembers, per user, which conversations hold their words (`users:v1:<platform>:<id>`), so
 * `/forget` can find and delete them without scanning the store.
 */
export class UserIndexStore {
  private readonly store: Store;
  private readonly retentionMs: number;
  private readonly seen = new Set<string>();

  constructor(store: Store, retentionMs: number) {
    this.store = store;
    this.retentionMs = retentionMs;
  }

  static key(platform: string, userId: string): string {
    return `users:v1:${platform}:${userId}`;
  }

  /** Called when a user's turn is stored (inside the conversation's turn, so writes do not race). */
  async note(ref: ConversationRef, conversation: string, userId: string): Promise<void> {
    const marker = `${ref.platform}:${userId}|${conversation}`;
    if (this.seen.has(marker)) return;
    const key = UserIndexStore.key(ref.platform, userId);
    const index = (await guard('load user index', () => this.store.get<UserIndex>(key))) ?? {
      conversations: {},
    };
    if (!index.conversations[conversation]) {
      index.conversations[conversation] = { dm: ref.isDM };
      await guard('save user index', () => this.store.set(key, index, this.retentionMs));
    }
    if (this.seen.size > 100_000) this.seen.clear();
    this.seen.add(marker);
  }

  async get(platform: string, userId: string): Promise<UserIndex> {
    return (
      (await guard('load user index', () =>
        this.store.get<UserIndex>(UserIndexStore.key(platform, userId)),
      )) ?? { conversations: {} }
    );
  }

  async drop(platform: string, userId: string): Promise<void> {
    for (const marker of this.seen) if (marker.startsWith(`${platform}:${userId}|`)) this.seen.delete(marker);
    await guard('delete user index', () => this.store.delete(UserIndexStore.key(platform, userId)));
  }
}

export interface ForgetDeps {
  config: Config;
  history: HistoryStore;
  settings: SettingsStore;
  usage: UsageStore;
  users: UserIndexStore;
}

/**
 * `/forget` explains what would be deleted; `/forget confirm` deletes the caller's turns (and the bot's
 * answers to them) in every conversation, their usage, and the settings of their DMs.
 */
export function forgetCommand(deps: ForgetDeps): CommandSpec {
  return {
    name: 'forget',
    description: 'Delete everything the bot stored about you (asks for confirmation)',
    options: [
      { name: 'confirm', description: 'Type "confirm" to delete', type: 'string', choices: ['confirm'] },
    ],
    access: 'everyone',
    ephemeral: true,
    private: true,
    readOnly: (options) => options.confirm !== 'confirm',
    // Each conversation is cleaned in its own turn, after any answer streaming there (which would
    // otherwise store the answer, or the question, after the deletion); one turn at a time.
    ownTurns: true,
    handler: async ({ invocation, options, locale, inTurn }) => {
      const { platform } = invocation.conversation;
      const userId = invocation.author.id;
      const index = await deps.users.get(platform, userId);
      const conversations = Object.entries(index.conversations);
      if (options.confirm !== 'confirm') {
        return { text: t(locale, 'forget.explain', { count: conversations.length }) };
      }
      let removed = 0;
      for (const [conversation, meta] of conversations) {
        removed += await inTurn(conversation, async () => {
          const turns = await deps.history.removeUser(conversation, userId);
          if (meta.dm) await deps.settings.clear(conversation);
          return turns;
        });
      }
      await deps.usage.forget({ kind: 'user', platform, id: userId });
      await deps.users.drop(platform, userId);
      return { text: t(locale, 'forget.done', { turns: removed, count: conversations.length }) };
    },
  };
}
