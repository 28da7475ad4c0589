/**
 * `/qwen <command> [args]`: one Slack slash command whose first word names a core command, so the bot
 * never collides with other apps' `/model` or `/reset`. Acked at once, answered through `respond()`.
 */
import type { CommandSpec } from '../../src/core/commands/registry.ts';
import type { Author, ConversationRef } from '../../src/core/types.ts';
import { type Locale, t, toLocale } from '../../src/i18n.ts';
import { type PlatformGlue, runPlatformCommand } from '../../src/platform-replies.ts';
import { SLASH_COMMAND } from './capabilities.ts';
import { isDirectChannel } from './events.ts';
import { toMrkdwn } from './format.ts';

export interface SlashPayload {
  text: string;
  team_id: string;
  channel_id: string;
  channel_name?: string;
  user_id: string;
  /** Unique per invocation: the core dedupes by it. */
  trigger_id?: string;
}

export interface SlashReply {
  response_type: 'ephemeral' | 'in_channel';
  text: string;
}

const UNKNOWN: Record<Locale, string> = {
  en: 'Unknown command "{name}".',
  zh: '未知命令“{name}”。',
};

/** Splits `model qwen-max` into the core command name and its raw arguments. */
export function parseSlash(text: string): { name: string; rawArgs: string } {
  const trimmed = text.trim().replace(/^\//, '');
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed);
  return { name: (m?.[1] ?? 'help').toLowerCase(), rawArgs: m?.[2] ?? '' };
}

/** How a core command is typed in Slack: `/qwen model [name]`. */
export function slackUsage(spec: CommandSpec): string {
  const opts = spec.options.map((o) => (o.required ? `<${o.name}>` : `[${o.name}]`));
  return [SLASH_COMMAND, spec.name, ...opts].join(' ');
}

/**
 * The core's own lines name commands as `/reset`; answered to a `/qwen` command they must say
 * `/qwen reset`, the way it is typed in Slack. Only bot text from commands goes through this.
 */
export function slackSpelling(text: string, commands: CommandSpec[]): string {
  if (commands.length === 0) return text;
  const names = commands.map((c) => c.name).join('|');
  return text.replace(new RegExp(`(^|[\\s(\`"'“‘])/(${names})\\b`, 'g'), `$1${SLASH_COMMAND} $2`);
}

function helpText(commands: CommandSpec[], locale: Locale): string {
  const lines = commands.map((c) => `• \`${slackUsage(c)}\` — ${c.description}`);
  return [t(locale, 'help.header'), ...lines].join('\n');
}

export async function runSlash(
  payload: SlashPayload,
  author: Author,
  glue: PlatformGlue,
  fallbackLocale: Locale,
): Promise<SlashReply> {
  const locale = toLocale(author.locale, fallbackLocale);
  const { name, rawArgs } = parseSlash(payload.text);
  const commands = glue.service.commands();
  if (!commands.some((c) => c.name === name)) {
    const text = `${UNKNOWN[locale].replace('{name}', `${SLASH_COMMAND} ${name}`)}\n${helpText(commands, locale)}`;
    return { response_type: 'ephemeral', text: toMrkdwn(text) };
  }
  const conversation: ConversationRef = {
    platform: 'slack',
    workspace: payload.team_id,
    channel: payload.channel_id,
    // Ids, never names: anyone can name a channel "directmessage"; only an IM's id starts with D.
    isDM: isDirectChannel(payload.channel_id),
  };
  const id = payload.trigger_id ? { id: `slack:cmd:${payload.trigger_id}` } : {};
  const result = await runPlatformCommand(
    glue,
    { ...id, name, rawArgs, conversation, author, locale },
    locale,
  );
  if (result.failed) return { response_type: 'ephemeral', text: toMrkdwn(`⚠️ ${result.text}`) };
  return {
    response_type: result.ephemeral ? 'ephemeral' : 'in_channel',
    text: toMrkdwn(slackSpelling(result.text, commands)),
  };
}
