import { type Locale, t } from '../i18n.ts';
import type { ToolScope } from '../tools/types.ts';
import { conversationKey, type IncomingMessage } from './types.ts';

/** How people see the FAQ's `search_faq` in the "used" line. */
export const FAQ_DISPLAY_NAME = 'faq';

/** Where a question's tools would run: its conversation and its asker (a thread's channel is its parent). */
export function toolScope(message: IncomingMessage): ToolScope {
  const ref = message.conversation;
  const dmWithoutWorkspace = ref.isDM && ref.workspace === 'dm';
  return {
    platform: ref.platform,
    ...(dmWithoutWorkspace ? {} : { workspaceId: ref.workspace }),
    conversation: conversationKey(ref),
    channelId: ref.channel,
    userId: message.author.id,
    isDM: ref.isDM,
  };
}

/**
 * The answer's line about tools: the FAQ's own note when only the FAQ helped, else one line naming
 * every tool that did ("🔧 used weather.get_forecast, faq"); none when no tool helped.
 */
export function usedToolsLine(used: string[], locale: Locale): string[] {
  if (!used.length) return [];
  if (used.length === 1 && used[0] === FAQ_DISPLAY_NAME) return [t(locale, 'faq.used')];
  return [t(locale, 'tools.used', { tools: used.join(', ') })];
}
