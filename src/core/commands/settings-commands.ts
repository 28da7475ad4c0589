import type { Config } from '../../config/schema.ts';
import { type Locale, t } from '../../i18n.ts';
import { type FeedbackService, shareLines } from '../feedback.ts';
import type { SettingsStore, ThinkingLevel } from '../settings.ts';
import { type ConversationRef, conversationKey } from '../types.ts';
import { scopesFor, type UsageStore, type UsageTotals } from '../usage.ts';
import type { CommandSpec } from './registry.ts';

export interface SettingsCommandDeps {
  config: Config;
  settings: SettingsStore;
  usage: UsageStore;
  /** The model this conversation uses now (conversation choice, workspace default, config default). */
  modelFor: (conversation: ConversationRef) => Promise<string>;
  /** Admins' `/usage` shows the share of 👍 per model. */
  feedback?: FeedbackService;
}

const onOff = { name: 'state', description: 'on or off', type: 'string' as const, choices: ['on', 'off'] };

export function settingsCommands(deps: SettingsCommandDeps): CommandSpec[] {
  const { config, settings, usage, modelFor } = deps;
  const toggle = (name: 'search', description: string, supported: (m: string) => boolean): CommandSpec => ({
    name,
    description,
    options: [onOff],
    access: 'everyone',
    ephemeral: false,
    readOnly: (options) => options.state === undefined,
    handler: async ({ invocation, options, locale }) => {
      const key = conversationKey(invocation.conversation);
      const model = await modelFor(invocation.conversation);
      const current = (await settings.resolve(invocation.conversation))[name] ?? false;
      if (options.state === undefined)
        return {
          text: t(locale, `${name}.state`, { state: onOffWord(locale, current), model }),
          ephemeral: true,
        };
      if (!supported(model)) return { text: t(locale, `${name}.unsupported`, { model }), ephemeral: true };
      const on = options.state === 'on';
      await settings.update(key, { [name]: on });
      return { text: t(locale, `${name}.set`, { state: onOffWord(locale, on), model }) };
    },
  });
  return [
    thinkingCommand(deps),
    toggle('search', 'Turn DashScope web search on or off here', (m) => Boolean(config.models[m]?.search)),
    {
      name: 'system',
      description: 'Show, set or clear this conversation’s system prompt',
      options: [
        {
          name: 'text',
          description: 'New system prompt, or "clear"',
          type: 'string',
          rest: true,
          maxLength: 4000,
        },
      ],
      access: 'everyone',
      ephemeral: true,
      private: true,
      readOnly: (options) => typeof options.text !== 'string' || options.text.trim() === '',
      handler: async ({ invocation, options, locale, spell, isAdmin }) => {
        const key = conversationKey(invocation.conversation);
        const text = typeof options.text === 'string' ? options.text.trim() : '';
        if (!text) {
          const current = (await settings.get(key)).systemPrompt;
          return {
            text: current ? t(locale, 'system.current', { text: current }) : t(locale, 'system.default'),
          };
        }
        // Anyone may change their own DM; in channels only admins.
        if (!invocation.conversation.isDM && !isAdmin)
          return { text: t(locale, 'cmd.denied', { name: 'system' }, spell) };
        if (text.toLowerCase() === 'clear') {
          await settings.update(key, { systemPrompt: undefined });
          return { text: t(locale, 'system.cleared'), ephemeral: false };
        }
        await settings.update(key, { systemPrompt: text });
        return { text: t(locale, 'system.set'), ephemeral: false };
      },
    },
    {
      name: 'usage',
      description: 'Tokens and estimated cost: this conversation, you, and (admins) the workspace',
      options: [],
      access: 'everyone',
      ephemeral: true,
      private: true,
      readOnly: true,
      handler: async ({ invocation, locale, isAdmin }) => {
        const [conv, user, workspace] = scopesFor(invocation.conversation, invocation.author.id);
        const rows: string[] = [];
        const show = async (label: string, scope: typeof conv) => {
          if (!scope) return;
          const totals = await usage.totals(scope);
          rows.push(
            `**${label}**`,
            line(locale, 'usage.today', totals.today),
            line(locale, 'usage.week', totals.week),
            line(locale, 'usage.all', totals.all),
          );
        };
        await show(t(locale, 'usage.conversation'), conv);
        await show(t(locale, 'usage.you'), user);
        if (isAdmin) await show(t(locale, 'usage.workspace'), workspace);
        const { feedback } = deps;
        if (isAdmin && feedback?.enabled) {
          const { platform, workspace: id } = invocation.conversation;
          rows.push(...shareLines(locale, await feedback.shares(platform, id), config.history.retentionDays));
        }
        return { text: rows.join('\n') };
      },
    },
  ];
}

const LEVELS = ['off', 'low', 'high', 'max', 'on'] as const;

/** `/thinking off|low|high|max` (`on` is `max`): whether the model thinks here, and with which budget. */
function thinkingCommand({ config, settings, modelFor }: SettingsCommandDeps): CommandSpec {
  const describe = (locale: Locale, s: { thinking?: boolean; thinkingLevel?: ThinkingLevel }) => {
    if (!s.thinking) return onOffWord(locale, false);
    const level = s.thinkingLevel ?? 'max';
    if (level === 'max') return t(locale, 'thinking.max');
    return t(locale, `thinking.${level}`, {
      tokens: config.qwen.thinkingBudgets[level].toLocaleString('en-US'),
    });
  };
  return {
    name: 'thinking',
    description: 'Turn the model’s thinking off, or on with a low, high or maximum budget, here',
    // Named `state` as when it was on/off: slash commands already registered keep working.
    options: [{ name: 'state', description: 'off, low, high or max', type: 'string', choices: [...LEVELS] }],
    access: 'everyone',
    ephemeral: false,
    readOnly: (options) => options.state === undefined,
    handler: async ({ invocation, options, locale }) => {
      const key = conversationKey(invocation.conversation);
      const model = await modelFor(invocation.conversation);
      if (options.state === undefined) {
        const state = describe(locale, await settings.resolve(invocation.conversation));
        return { text: t(locale, 'thinking.state', { state, model }), ephemeral: true };
      }
      const info = config.models[model];
      if (!info?.thinking || info.thinkingOnly)
        return { text: t(locale, 'thinking.unsupported', { model }), ephemeral: true };
      const level = options.state as (typeof LEVELS)[number];
      const next =
        level === 'off'
          ? { thinking: false, thinkingLevel: undefined }
          : { thinking: true, thinkingLevel: level === 'on' || level === 'max' ? undefined : level };
      await settings.update(key, next);
      return { text: t(locale, 'thinking.set', { state: describe(locale, next), model }) };
    },
  };
}

export function workspaceKey(ref: { platform: string; workspace: string }): string {
  return `${ref.platform}:${ref.workspace}`;
}

function onOffWord(locale: Locale, on: boolean): string {
  return t(locale, on ? 'word.on' : 'word.off');
}

function line(locale: Locale, key: 'usage.today' | 'usage.week' | 'usage.all', u: UsageTotals): string {
  return t(locale, key, {
    answers: u.answers,
    prompt: u.promptTokens.toLocaleString('en-US'),
    cached: u.cachedTokens.toLocaleString('en-US'),
    completion: u.completionTokens.toLocaleString('en-US'),
    reasoning: u.reasoningTokens.toLocaleString('en-US'),
    cost: u.cost.toFixed(4),
    saving: cacheNote(locale, u),
  });
}

/** Only once the cache has done something: a line without cached tokens stays as it was. */
function cacheNote(locale: Locale, u: UsageTotals): string {
  if (!u.cachedTokens && !u.cacheCreationTokens) return '';
  if (u.cacheSaving < 0) return t(locale, 'usage.cacheExtra', { extra: (-u.cacheSaving).toFixed(4) });
  return t(locale, 'usage.saved', { saved: u.cacheSaving.toFixed(4) });
}
