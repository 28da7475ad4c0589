/**
 * Slash commands: the core registry becomes Discord application commands (one bulk overwrite), and
 * interactions are answered through the ChatService: commands are deferred at once and answered by
 * editing the deferred reply; autocomplete asks the service; the Stop button asks the service to stop;
 * 👍 / 👎 and the reason modal go to the service's feedback (feedback.ts).
 */
import {
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Client,
  type Interaction,
  MessageFlags,
  type PermissionResolvable,
  PermissionsBitField,
  Routes,
} from 'discord.js';
import type { CommandSpec, OptionSpec } from '../../src/core/commands/registry.ts';
import type { MessageActions } from '../../src/core/message-actions.ts';
import type { ChatService } from '../../src/core/service.ts';
import { splitMessage } from '../../src/core/split.ts';
import type { Author, OptionType, OptionValue } from '../../src/core/types.ts';
import { spellCommandRefs, t, toLocale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import { runPlatformCommand } from '../../src/platform-replies.ts';
import { FEEDBACK_PREFIX, pressFeedback, REASON_PREFIX, submitReason } from './feedback.ts';
import { conversationOf } from './inbound.ts';
import { isMessageAction, messageCommandBodies, runMessageAction } from './message-actions.ts';
import { DISCORD_MAX_CHARS, NO_PINGS, STOP_PREFIX } from './surface.ts';

/** Discord application command option types. */
const OPTION_TYPES: Record<OptionType, number> = { string: 3, integer: 4, boolean: 5, number: 10 };
const MAX_CHOICES = 25;
/** Part of Discord's 3-second interaction deadline left to the service for suggestions. */
const AUTOCOMPLETE_BUDGET_MS = 2000;

export interface ApiCommand {
  name: string;
  description: string;
  type: 1;
  options: Array<Record<string, unknown>>;
  /** Guild, bot DM and private channel contexts. */
  contexts: number[];
  integration_types: number[];
}

/** Turns one core command into an application command (chat input). */
export function toApplicationCommand(spec: CommandSpec): ApiCommand {
  // Discord wants required options first; options are named there, so order carries no meaning.
  const ordered = [...spec.options.filter((o) => o.required), ...spec.options.filter((o) => !o.required)];
  return {
    name: spec.name,
    description: clip(spellCommandRefs(spec.description)),
    type: 1,
    options: ordered.map(toOption),
    contexts: [0, 1],
    integration_types: [0],
  };
}

function toOption(o: OptionSpec): Record<string, unknown> {
  const useChoices = !o.autocomplete && o.choices && o.choices.length > 0 && o.choices.length <= MAX_CHOICES;
  return {
    name: o.name,
    description: clip(o.description),
    type: OPTION_TYPES[o.type],
    required: o.required === true,
    ...(o.autocomplete ? { autocomplete: true } : {}),
    ...(useChoices ? { choices: o.choices?.map((c) => ({ name: clip(c), value: c })) } : {}),
    ...(o.type === 'string' && o.maxLength ? { max_length: Math.min(o.maxLength, 6000) } : {}),
  };
}

function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 99)}…` : text || '-';
}

export interface InteractionDeps {
  service: ChatService;
  log: Logger;
  adminPermission: PermissionResolvable;
  /** Translate / Summarize thread on a message (registered only when given). */
  actions?: MessageActions | undefined;
  messageContentIntent?: boolean;
}

export async function handleInteraction(interaction: Interaction, deps: InteractionDeps): Promise<void> {
  if (interaction.isChatInputCommand()) return runSlash(interaction, deps);
  if (isMessageAction(interaction) && deps.actions) {
    const actionDeps = {
      actions: deps.actions,
      log: deps.log,
      messageContentIntent: deps.messageContentIntent ?? false,
    };
    return runMessageAction(interaction, authorOf(interaction, deps), conversation(interaction), actionDeps);
  }
  if (interaction.isAutocomplete()) return answerAutocomplete(interaction, deps);
  if (interaction.isButton() && interaction.customId.startsWith(STOP_PREFIX))
    return pressStop(interaction, deps);
  const feedback = () => ({
    ...deps,
    author: authorOf(interaction, deps),
    conversation: conversation(interaction),
  });
  if (interaction.isButton() && interaction.customId.startsWith(`${FEEDBACK_PREFIX}:`))
    return pressFeedback(interaction, feedback());
  if (interaction.isModalSubmit() && interaction.customId.startsWith(`${REASON_PREFIX}:`))
    return submitReason(interaction, feedback());
}

function authorOf(interaction: Interaction, deps: InteractionDeps): Author {
  const member = interaction.member;
  const name =
    member && 'displayName' in member ? member.displayName : (member?.nick ?? interaction.user.displayName);
  const permissions =
    interaction.memberPermissions ?? (interaction.inGuild() ? new PermissionsBitField() : null);
  return {
    id: interaction.user.id,
    name,
    isBot: interaction.user.bot,
    isAdmin: permissions?.has(deps.adminPermission) ?? false,
    locale: interaction.locale,
  };
}

function conversation(interaction: Interaction) {
  return conversationOf(interaction.channel, interaction.channelId ?? '', interaction.guildId);
}

async function runSlash(interaction: ChatInputCommandInteraction, deps: InteractionDeps): Promise<void> {
  const spec = deps.service.commands().find((c) => c.name === interaction.commandName);
  const ephemeral = spec?.ephemeral ?? true;
  // Acknowledge first: Discord drops interactions not answered within 3 seconds.
  await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
  const options: Record<string, OptionValue | undefined> = {};
  for (const o of interaction.options.data) {
    if (typeof o.value === 'string' || typeof o.value === 'number' || typeof o.value === 'boolean')
      options[o.name] = o.value;
  }
  const result = await runPlatformCommand(
    { platform: 'discord', service: deps.service, log: deps.log },
    {
      id: `discord:interaction:${interaction.id}`,
      name: interaction.commandName,
      options,
      conversation: conversation(interaction),
      author: authorOf(interaction, deps),
      locale: interaction.locale,
    },
    toLocale(interaction.locale),
  );
  const text = result.text;
  const wantEphemeral = result.ephemeral ?? ephemeral;
  const parts = splitMessage(text || '-', DISCORD_MAX_CHARS).map((p) => p.text);
  // The deferral's visibility was chosen before the result existed. When the result wants the other
  // visibility, the placeholder is deleted and the answer goes out as follow-ups with the right flag.
  if (wantEphemeral === ephemeral) {
    await interaction.editReply({ content: parts.shift() ?? '-', allowedMentions: NO_PINGS });
  } else {
    await interaction.deleteReply();
  }
  for (const part of parts) {
    await interaction.followUp({
      content: part,
      allowedMentions: NO_PINGS,
      ...(wantEphemeral ? { flags: MessageFlags.Ephemeral } : {}),
    });
  }
}

async function answerAutocomplete(
  interaction: AutocompleteInteraction,
  deps: InteractionDeps,
): Promise<void> {
  const focused = interaction.options.getFocused(true);
  let names: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  // Autocomplete cannot be deferred: answer within Discord's 3 seconds, with nothing if need be.
  const late = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => {
      deps.log.warn({ command: interaction.commandName }, 'autocomplete too slow; answered with no choices');
      resolve([]);
    }, AUTOCOMPLETE_BUDGET_MS);
  });
  try {
    names = await Promise.race([
      deps.service.autocomplete(
        interaction.commandName,
        focused.name,
        String(focused.value),
        conversation(interaction),
      ),
      late,
    ]);
  } catch (err) {
    deps.log.warn({ err, command: interaction.commandName }, 'autocomplete failed');
  } finally {
    clearTimeout(timer);
  }
  await interaction.respond(
    names.slice(0, MAX_CHOICES).map((n) => ({ name: n.slice(0, 100), value: n.slice(0, 100) })),
  );
}

async function pressStop(interaction: ButtonInteraction, deps: InteractionDeps): Promise<void> {
  const stopped = deps.service.stop(interaction.message.id, authorOf(interaction, deps));
  if (stopped) {
    // The streamer's final edit shows the stopped line and removes the button.
    await interaction.deferUpdate();
    return;
  }
  await interaction.reply({
    content: t(toLocale(interaction.locale), 'stop.refused'),
    flags: MessageFlags.Ephemeral,
    allowedMentions: NO_PINGS,
  });
}

/** One bulk overwrite, globally or per configured guild; a failure leaves the existing commands. */
export async function registerApplicationCommands(
  client: Client<true>,
  commands: CommandSpec[],
  guildIds: string[],
  log: Logger,
  withMessageActions = false,
): Promise<void> {
  const body = [...commands.map(toApplicationCommand), ...(withMessageActions ? messageCommandBodies() : [])];
  const appId = client.application.id;
  try {
    if (guildIds.length === 0) {
      await client.rest.put(Routes.applicationCommands(appId), { body });
      log.info({ commands: body.length }, 'registered global slash commands');
      return;
    }
    for (const guildId of guildIds) {
      await client.rest.put(Routes.applicationGuildCommands(appId, guildId), { body });
    }
    log.info({ commands: body.length, guilds: guildIds }, 'registered guild slash commands');
  } catch (err) {
    log.error({ err }, 'registering slash commands failed; existing commands stay as they were');
  }
}
