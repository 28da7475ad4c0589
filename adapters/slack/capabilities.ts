/**
 * What the Slack adapter uses from Slack, in one place: the app manifest (config/slack-manifest.yaml)
 * must declare exactly these scopes, events and the slash command; a test holds them together.
 */

/** The one slash command; the core's commands are its subcommands (`/qwen model qwen-max`). */
export const SLASH_COMMAND = '/qwen';

/** Message shortcuts (the ⋯ menu on any message), as the manifest declares them: callback_id → name. */
export const MESSAGE_SHORTCUTS = {
  translate_message: 'Translate',
  summarize_thread: 'Summarize thread',
} as const;

/** Bot events the adapter listens to. */
export const BOT_EVENTS = [
  'app_home_opened',
  'app_mention',
  'assistant_thread_context_changed',
  'assistant_thread_started',
  'message.channels',
  'message.groups',
  'message.im',
] as const;

/** Web API methods the adapter calls with the bot token, and the scope each needs (null: none). */
export const METHOD_SCOPES: Record<string, string | null> = {
  'auth.test': null,
  'chat.postMessage': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.update': 'chat:write',
  'chat.delete': 'chat:write',
  'chat.startStream': 'chat:write',
  'chat.appendStream': 'chat:write',
  'chat.stopStream': 'chat:write',
  // chat:write since March 2026 (assistant:write is being retired for this method).
  'assistant.threads.setStatus': 'chat:write',
  'assistant.threads.setSuggestedPrompts': 'assistant:write',
  'assistant.threads.setTitle': 'assistant:write',
  // The name of the channel a person views beside the assistant pane (public channels; a private one
  // falls back to its id).
  'conversations.info': 'channels:read',
  'users.info': 'users:read',
  // The parent of a thread the bot is pulled into (thread-parent.ts); groups:history in private channels.
  'conversations.replies': 'channels:history',
  // The 👎 reason form (needs interactivity, no scope).
  'views.open': null,
  // Summarize thread outside a thread: the channel's latest messages (groups:history / im:history in
  // private channels and DMs, already granted for their message events).
  'conversations.history': 'channels:history',
};

/** Feedback buttons and the reason modal arrive as interactivity payloads (block_actions, view_submission). */
export const INTERACTIVITY = true;

/** Scopes needed for receiving what BOT_EVENTS deliver, for file downloads and for the command. */
const EVENT_SCOPES: Record<(typeof BOT_EVENTS)[number], string | null> = {
  // The agent view's entry point (slack.assistant.view: agent); Slack asks no scope for it.
  app_home_opened: null,
  app_mention: 'app_mentions:read',
  assistant_thread_started: 'assistant:write',
  assistant_thread_context_changed: 'assistant:write',
  'message.channels': 'channels:history',
  'message.groups': 'groups:history',
  'message.im': 'im:history',
};

/** Every bot scope the app needs, sorted. */
export function requiredScopes(): string[] {
  const scopes = new Set<string>(['commands', 'files:read']);
  for (const s of Object.values(METHOD_SCOPES)) if (s) scopes.add(s);
  for (const s of Object.values(EVENT_SCOPES)) if (s) scopes.add(s);
  return [...scopes].sort();
}
