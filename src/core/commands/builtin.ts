import type { Config, ModelInfo } from '../../config/schema.ts';
import { spellCommandRefs, t } from '../../i18n.ts';
import type { ProbeFailure } from '../../qwen/client.ts';
import type { DocumentStore } from '../documents.ts';
import type { HistoryStore } from '../history.ts';
import type { SettingsStore } from '../settings.ts';
import { type ConversationRef, conversationKey } from '../types.ts';
import type { CommandRegistry, CommandSpec } from './registry.ts';
import { workspaceKey } from './settings-commands.ts';

export interface BuiltinDeps {
  config: Config;
  registry: CommandRegistry;
  history: HistoryStore;
  settings: SettingsStore;
  /** The model this conversation uses now (its choice, else the workspace default, else config). */
  modelFor: (conversation: ConversationRef) => Promise<string>;
  /** Asks DashScope whether the model answers; resolves to a reason when it refuses. */
  probeModel?: (model: string) => Promise<ProbeFailure | undefined>;
  /** `/reset` forgets the conversation's documents too (and deletes them at DashScope). */
  documents?: DocumentStore;
}

export function builtinCommands(deps: BuiltinDeps): CommandSpec[] {
  const { config, registry, history, settings, modelFor } = deps;
  // Translation models (qwen-mt) answer Translate only: they take no system prompt and no chat.
  const chatModels = () => Object.entries(config.models).filter(([, info]) => !info.translation);
  const modelNames = () => chatModels().map(([name]) => name);
  return [
    {
      name: 'help',
      description: 'How to talk to the bot and what the commands do',
      options: [],
      access: 'everyone',
      ephemeral: true,
      readOnly: true,
      handler: async ({ locale, spell }) => {
        const lines = registry
          .list()
          .map((c) => `• \`${registry.usage(c, spell)}\` — ${spellCommandRefs(c.description, spell)}`);
        return { text: [t(locale, 'help.header'), ...lines].join('\n') };
      },
    },
    {
      name: 'reset',
      description: "Forget this conversation's history (channel, thread or DM)",
      options: [],
      access: 'everyone',
      ephemeral: false,
      handler: async ({ invocation, locale }) => {
        const key = conversationKey(invocation.conversation);
        await history.clear(key);
        await deps.documents?.clear(key);
        return { text: t(locale, 'reset.done') };
      },
    },
    {
      name: 'model',
      description: "Show the models, or switch this conversation's model",
      options: [
        {
          name: 'name',
          description: 'Model to use here, e.g. qwen-max',
          type: 'string',
          maxLength: 64,
          autocomplete: (partial) =>
            modelNames()
              .filter((n) => n.includes(partial.toLowerCase()))
              .slice(0, 25),
        },
        {
          name: 'default',
          description: 'Make it the default for the whole workspace (admins)',
          type: 'boolean',
        },
      ],
      access: 'everyone',
      ephemeral: false,
      readOnly: (options) => typeof options.name !== 'string' || options.name.trim() === '',
      handler: async ({ invocation, options, locale, spell, isAdmin }) => {
        const key = conversationKey(invocation.conversation);
        const wsKey = workspaceKey(invocation.conversation);
        const name = typeof options.name === 'string' ? options.name.trim() : '';
        const current = await modelFor(invocation.conversation);
        if (!name) {
          const rows = chatModels().map(
            ([n, info]) => `• ${n === current ? `**${n}**` : n} — ${describe(info)}`,
          );
          return {
            text: [
              t(locale, 'model.current', { model: current }),
              t(locale, 'model.list_header'),
              ...rows,
            ].join('\n'),
            ephemeral: true,
          };
        }
        if (!config.models[name] || config.models[name].translation) {
          const close = suggest(name, modelNames());
          const hint = close.length
            ? t(locale, 'model.suggest', { names: close.join(', ') })
            : t(locale, 'model.known', { names: modelNames().join(', ') });
          return { text: `${t(locale, 'model.unknown', { model: name })} ${hint}`, ephemeral: true };
        }
        const asDefault = options.default === true;
        if (asDefault && !isAdmin)
          return { text: t(locale, 'cmd.denied', { name: 'model default:true' }, spell), ephemeral: true };
        const failed = await deps.probeModel?.(name);
        if (failed) {
          const line = failed.kind === 'refused' ? 'model.refused' : 'model.unchecked';
          return {
            text: t(locale, line, { model: name, why: failed.why, previous: current }),
            ephemeral: true,
          };
        }
        if (asDefault) {
          await settings.update(wsKey, { model: name });
          return { text: t(locale, 'model.default_set', { model: name }) };
        }
        await settings.update(key, { model: name });
        return { text: t(locale, 'model.switched', { model: name }) };
      },
    },
  ];
}

function describe(info: ModelInfo): string {
  const k = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${Math.round(n / 1024)}K`);
  const caps = [
    info.vision && 'images',
    info.thinking && 'thinking',
    info.search && 'web search',
    info.tools && 'tools',
  ].filter(Boolean);
  return `${k(info.context)} context, ${k(info.maxOutput)} output${caps.length ? `, ${caps.join(', ')}` : ''}; ¥${info.priceIn}/¥${info.priceOut} per 1M tokens in/out`;
}

/** Names within a small edit distance, or sharing a prefix, best first. */
export function suggest(input: string, names: string[]): string[] {
  const lower = input.toLowerCase();
  return names
    .map((n) => ({ n, d: n.startsWith(lower) || lower.startsWith(n) ? 0 : distance(lower, n) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(x.n.length / 3)))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.n);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}
