import { en, type MessageKey } from './i18n/en.ts';
import { zh } from './i18n/zh.ts';

/** The bot's own words, in English and Simplified Chinese. Keys are stable; add both languages together. */
export type Locale = 'en' | 'zh';
/** Who reads a line: a chat user, or the operator (the terminal user), who is told what to check. */
export type Audience = 'user' | 'operator';

export type { MessageKey };

const tables: Record<Locale, Record<MessageKey, string>> = { en, zh };

/** Maps a platform locale ("zh-CN", "en-US", "zh") to one we speak, else the fallback. */
export function toLocale(tag: string | undefined, fallback: Locale = 'en'): Locale {
  if (!tag) return fallback;
  const lower = tag.toLowerCase();
  if (lower.startsWith('zh')) return 'zh';
  if (lower.startsWith('en')) return 'en';
  return fallback;
}

/**
 * How a platform writes a reference to one of the bot's commands: `/reset` on Discord and in the
 * terminal, `/qwen reset` in Slack (one slash command with the command as its first word).
 */
export type CommandSpeller = (command: string) => string;
export const slashCommand: CommandSpeller = (command) => `/${command}`;

/**
 * `{name}` is replaced by vars.name; `{/name}` is a command reference, written by `spell`: the command
 * named by vars.name when there is one, else `name` itself (`{/reset}`).
 */
export function t(
  locale: Locale,
  key: MessageKey,
  vars: Record<string, string | number> = {},
  spell: CommandSpeller = slashCommand,
): string {
  return tables[locale][key].replace(/\{(\/?)(\w+)\}/g, (m, slash: string, name: string) => {
    if (slash) return spell(name in vars ? String(vars[name]) : name);
    return name in vars ? String(vars[name]) : m;
  });
}

/** Command references (`{/faq} reload`) in the core's own text, such as command descriptions. */
export function spellCommandRefs(text: string, spell: CommandSpeller = slashCommand): string {
  return text.replace(/\{\/([a-z0-9_-]+)\}/g, (_, name: string) => spell(name));
}
