import type { Config } from '../config/schema.ts';
import { t } from '../i18n.ts';
import type { Coordinator } from '../store/coordination.ts';
import type { Store } from '../store/index.ts';
import type { CommandSpec } from './commands/registry.ts';
import type { DocumentStore } from './documents.ts';
import type { FeedbackService } from './feedback.ts';
import { guard, type HistoryStore } from './history.ts';
import type { SettingsStore } from './settings.ts';
import type { ConversationRef } from './types.ts';
import type { UsageStore } from './usage.ts';

interface UserIndex {
  /** Conversation keys the user has spoken in, and whether each is the user's DM. */
  conversations: Record<string, { dm: boolean }>;
}

/** The index outlives the user's last turn by this much, so it never expires before that turn does. */
const INDEX_MARGIN_MS = 86_400_000;

/**
 * Remembers, per user, which conversations hold their words (`users:v2:<platform>:<id>`, one field
 * per conversation), so `/forget` can find and delete them without scanning the store. Every noted
 * turn sets its field and restarts the index's lifetime in one atomic step through the coordinator
 * (a Redis hash when the store is shared), so concurrent conversations and instances never lose an
 * entry, and nothing is cached per process that another instance's `/forget` could not clear.
 * `users:v1:` records written by earlier versions are still read and deleted.
 */
export class UserIndexStore {
  private readonly store: Store;
  private readonly coordinator: Coordinator;
  private readonly ttlMs: number;

  constructor(store: Store, coordinator: Coordinator, retentionMs: number) {
    this.store = store;
    this.coordinator = coordinator;
    this.ttlMs = retentionMs + INDEX_MARGIN_MS;
  }

  static key(platform: string, userId: string): string {
    return `users:v2:${platform}:${userId}`;
  }

  static legacyKey(platform: string, userId: string): string {
    return `users:v1:${platform}:${userId}`;
  }

  /** Called whenever a user's turn is stored: one write, which also keeps the index alive. */
  async note(ref: ConversationRef, conversation: string, userId: string): Promise<void> {
    await this.coordinator.addToIndex(
      UserIndexStore.key(ref.platform, userId),
      conversation,
      ref.isDM ? 'dm' : 'shared',
      this.ttlMs,
    );
  }

  async get(platform: string, userId: string): Promise<UserIndex> {
    const [fields, legacy] = await Promise.all([
      this.coordinator.readIndex(UserIndexStore.key(platform, userId)),
      guard('load user index', () => this.store.get<UserIndex>(UserIndexStore.legacyKey(platform, userId))),
    ]);
    const conversations: UserIndex['conversations'] = { ...legacy?.conversations };
    for (const [conversation, kind] of Object.entries(fields))
      conversations[conversation] = { dm: kind === 'dm' };
    return { conversations };
  }

  async drop(platform: string, userId: string): Promise<void> {
    await this.coordinator.dropIndex(UserIndexStore.key(platform, userId));
    await guard('delete user index', () => this.store.delete(UserIndexStore.legacyKey(platform, userId)));
  }
}

export interface ForgetDeps {
  config: Config;
  history: HistoryStore;
  settings: SettingsStore;
  usage: UsageStore;
  users: UserIndexStore;
  /** The documents the caller posted are deleted too (here and at DashScope). */
  documents?: DocumentStore;
  feedback?: FeedbackService;
}

/**
 * `/forget` explains what would be deleted; `/forget confirm` deletes the caller's turns (and the bot's
 * answers to them) in every conversation, their usage, their feedback votes, and the settings of their DMs.
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
    handler: async ({ invocation, options, locale, spell, inTurn }) => {
      const { platform } = invocation.conversation;
      const userId = invocation.author.id;
      const index = await deps.users.get(platform, userId);
      const conversations = Object.entries(index.conversations);
      if (options.confirm !== 'confirm') {
        return { text: t(locale, 'forget.explain', { count: conversations.length }, spell) };
      }
      let removed = 0;
      for (const [conversation, meta] of conversations) {
        removed += await inTurn(conversation, async () => {
          const turns = await deps.history.removeUser(conversation, userId);
          await deps.documents?.removeAuthor(conversation, userId);
          if (meta.dm) await deps.settings.clear(conversation);
          return turns;
        });
      }
      await deps.usage.forget({ kind: 'user', platform, id: userId });
      await deps.users.drop(platform, userId);
      const votes = (await deps.feedback?.forget(platform, userId)) ?? 0;
      const done = t(locale, 'forget.done', { turns: removed, count: conversations.length });
      return { text: votes ? `${done}\n${t(locale, 'forget.feedback', { votes })}` : done };
    },
  };
}
