import { type Locale, t } from '../i18n.ts';

/** How people see the FAQ's `search_faq` in the "used" line. */
export const FAQ_DISPLAY_NAME = 'faq';

/**
 * The answer's line about tools: the FAQ's own note when only the FAQ helped, else one line naming
 * every tool that did ("🔧 used weather.get_forecast, faq"); none when no tool helped.
 */
export function usedToolsLine(used: string[], locale: Locale): string[] {
  if (!used.length) return [];
  if (used.length === 1 && used[0] === FAQ_DISPLAY_NAME) return [t(locale, 'faq.used')];
  return [t(locale, 'tools.used', { tools: used.join(', ') })];
}
