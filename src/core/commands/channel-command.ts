/**
 * `/channel mode all|mentions`: whether the bot answers every message in a channel or only what is
 * addressed to it. Stored per channel; a thread follows its channel unless the mode was set in the
 * thread itself. `/channel` alone shows the mode here.
 */
import type { Config } from '../../config/schema.ts';
import { type Locale, t } from '../../i18n.ts';
import type { ChannelMode, SettingsStore } from '../settings.ts';
import { type ConversationRef, conversationKey } from '../types.ts';
import type { CommandSpec } from './registry.ts';

const MODES = ['all', 'mentions'] as const;

/** The mode of a conversation: its own, else its channel's, else mentions. One store read. */
export async function channelMode(settings: SettingsStore, ref: ConversationRef): Promise<ChannelMode> {
  const keys = [conversationKey(ref)];
  if (ref.thread) keys.push(conversationKey({ ...ref, thread: undefined }));
  const { settings: found } = await settings.loadWith(keys);
  return found.find((s) => s.mode !== undefined)?.mode ?? 'mentions';
}

/** Where `/channel mode` applies: the thread it was run in, or the channel (also for a Slack top-level message). */
function target(ref: ConversationRef): ConversationRef {
  return ref.thread && !ref.opensThread ? ref : { ...ref, thread: undefined };
}

export function channelCommand(deps: { config: Config; settings: SettingsStore }): CommandSpec {
  const { config, settings } = deps;
  const lines = (locale: Locale, ref: ConversationRef, first: string, mode: ChannelMode) => {
    // Discord sends the text of messages that do not mention the bot only with the Message Content intent.
    const blind = ref.platform === 'discord' && !config.discord.messageContentIntent;
    return [first, ...(mode === 'all' && blind ? [t(locale, 'channel.intent_off')] : [])].join('\n');
  };
  return {
    name: 'channel',
    description: 'Show, or (admins) set, whether the bot answers every message here or only mentions',
    options: [
      {
        name: 'mode',
        description: 'all: every message; mentions: only when mentioned or replied to',
        type: 'string',
        choices: [...MODES],
      },
    ],
    access: 'everyone',
    ephemeral: false,
    readOnly: (options) => options.mode === undefined,
    handler: async ({ invocation, options, locale, spell, isAdmin }) => {
      const ref = invocation.conversation;
      if (ref.isDM) return { text: t(locale, 'channel.dm'), ephemeral: true };
      const here = target(ref);
      const word = (mode: ChannelMode) => t(locale, `channel.mode_${mode}`);
      if (options.mode === undefined) {
        const mode = await channelMode(settings, here);
        const own = (await settings.get(conversationKey(here))).mode;
        const key = here.thread && own === undefined ? 'channel.state_inherited' : 'channel.state';
        return { text: lines(locale, ref, t(locale, key, { mode: word(mode) }), mode), ephemeral: true };
      }
      if (!isAdmin) return { text: t(locale, 'cmd.denied', { name: 'channel' }, spell), ephemeral: true };
      const mode = options.mode as ChannelMode;
      await settings.update(conversationKey(here), { mode });
      return { text: lines(locale, ref, t(locale, 'channel.set', { mode: word(mode) }), mode) };
    },
  };
}
