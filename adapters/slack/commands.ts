/**
 * `/qwen <command> [args]`: one Slack slash command whose first word names a core command, so the bot
 * never collides with other apps' `/model` or `/reset`. Acked at once, answered through `respond()`.
 */
import { type CommandSpec, commandUsage } from '../../src/core/commands/registry.ts';
import type { Author, ConversationRef } from '../../src/core/types.ts';
import { type CommandSpeller, type Locale, spellCommandRefs, t, toLocale } from '../../src/i18n.ts';
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

/**
 * How a core command is typed in Slack: `/qwen reset`. The core writes its command references with it
 * for Slack conversations (the adapter registers it: `service.spellCommandsAs('slack', …)`).
 */
export const slackCommand: CommandSpeller = (command) => `${SLASH_COMMAND} ${command}`;

function helpText(commands: CommandSpec[], locale: Locale): string {
  const lines = commands.map(
    (c) => `• \`${commandUsage(c, slackCommand)}\` — ${spellCommandRefs(c.description, slackCommand)}`,
  );
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
    text: toMrkdwn(result.text),
  };
}
