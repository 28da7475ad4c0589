import { workspaceKey } from './commands/settings-commands.ts';
import { type HistoryMeta, HistoryStore } from './history.ts';
import { type ConversationSettings, inheritSettings, type SettingsStore } from './settings.ts';
import { type ConversationRef, conversationKey } from './types.ts';

/** What an answer reads from the store before its model call, in one batched read. */
export interface TurnStart {
  /** The conversation's settings (a thread's on top of its channel's). */
  settings: ConversationSettings;
  /** The workspace defaults. */
  workspace: ConversationSettings;
  /**
   * The history's meta; null: no history at all (neither layout), so storing the first turn needs no
   * look of its own; undefined: an older layout is there, which the history store migrates.
   */
  meta: HistoryMeta | null | undefined;
  /** The values of the `alsoRead` keys the caller asked for, in order (e.g. the documents list). */
  also: unknown[];
}

/**
 * One store read for the conversation's settings (and its channel's, for a thread), the workspace
 * defaults and the history meta. Settings this process caches (SQLite) are not read again; the meta is
 * passed on to the history store, so storing the user's turn and reading the prompt's turns need no
 * meta read of their own. Call in the conversation's turn: the meta is only current while nobody else
 * can append.
 */
export async function readTurnStart(
  settings: SettingsStore,
  ref: ConversationRef,
  alsoRead: string[] = [],
): Promise<TurnStart> {
  const own = conversationKey(ref);
  const parent = ref.thread ? conversationKey({ ...ref, thread: undefined }) : undefined;
  const conversations = [own, ...(parent ? [parent] : []), workspaceKey(ref)];
  const historyKeys = [HistoryStore.metaKey(own), HistoryStore.v1Key(own)];
  const loaded = await settings.loadWith(conversations, [...historyKeys, ...alsoRead]);
  const [metaValue, v1Value] = loaded.also;
  const [mine = {}, ...rest] = loaded.settings;
  const workspace = rest.at(-1) ?? {};
  const inherited = parent ? (rest[0] ?? {}) : {};
  return {
    settings: inheritSettings(inherited, mine),
    workspace,
    meta: HistoryStore.readMeta(metaValue) ?? (v1Value === undefined ? null : undefined),
    also: loaded.also.slice(historyKeys.length),
  };
}
