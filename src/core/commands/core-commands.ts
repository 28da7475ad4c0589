import type { Config } from '../../config/schema.ts';
import type { ProbeFailure } from '../../qwen/client.ts';
import type { DocumentStore } from '../documents.ts';
import type { FeedbackService } from '../feedback.ts';
import type { HistoryStore } from '../history.ts';
import { forgetCommand, type UserIndexStore } from '../privacy.ts';
import type { SettingsStore } from '../settings.ts';
import type { ConversationRef } from '../types.ts';
import type { UsageStore } from '../usage.ts';
import { builtinCommands } from './builtin.ts';
import { channelCommand } from './channel-command.ts';
import { docsCommand } from './docs-command.ts';
import type { CommandRegistry, CommandSpec } from './registry.ts';
import { settingsCommands } from './settings-commands.ts';

export interface CoreCommandDeps {
  config: Config;
  registry: CommandRegistry;
  history: HistoryStore;
  settings: SettingsStore;
  usage: UsageStore;
  users: UserIndexStore;
  /** 👍 / 👎 votes: admins' /usage shows their share, /forget deletes a person's. */
  feedback?: FeedbackService;
  modelFor: (conversation: ConversationRef) => Promise<string>;
  probeModel?: (model: string) => Promise<ProbeFailure | undefined>;
  /** Commands from other modules (FAQ). */
  extra?: CommandSpec[];
  /** Long documents (qwen-long): `/docs`, and `/reset` and `/forget` delete them. */
  documents?: DocumentStore;
}

/** Every command the conversation service registers, in the order `/help` lists them. */
export function coreCommands(deps: CoreCommandDeps): CommandSpec[] {
  const { config, registry, history, settings, usage, users, modelFor, probeModel, feedback, documents } =
    deps;
  return [
    ...builtinCommands({ config, registry, history, settings, modelFor, probeModel, documents }),
    ...settingsCommands({ config, settings, usage, modelFor, feedback }),
    channelCommand({ config, settings }),
    forgetCommand({ config, history, settings, usage, users, feedback, documents }),
    ...(documents && config.documents.enabled ? [docsCommand({ config, documents })] : []),
    ...(deps.extra ?? []),
  ];
}
