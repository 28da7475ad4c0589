/**
 * `/tools`: the tool servers, their state and what applies in this conversation for the caller;
 * `/tools enable|disable <server> [here|workspace]` (admins) stores a switch with the settings.
 */
import type { CommandSpec } from '../core/commands/registry.ts';
import { workspaceKey } from '../core/commands/settings-commands.ts';
import type { SettingsStore } from '../core/settings.ts';
import { conversationKey } from '../core/types.ts';
import { type CommandSpeller, type Locale, type MessageKey, t } from '../i18n.ts';
import { type SettingsToolAccess, type SwitchLayer, type ToolVerdict, toolScopeOf } from './access.ts';
import type { ToolCatalog, ToolServerState } from './types.ts';

export interface ToolsCommandDeps {
  catalog: ToolCatalog;
  access: SettingsToolAccess;
  settings: SettingsStore;
  /** Whether the model is offered the FAQ's `search_faq` (`faq.enabled` and `faq.tool`). */
  faqTool?: () => boolean;
  now?: () => number;
}

/** Tool names shown per server; the rest are counted. */
const SHOWN_TOOLS = 12;

const ACTIONS = ['list', 'enable', 'disable'] as const;
const SCOPES = ['here', 'workspace'] as const;

/** No MCP client wired: `/tools` says none are configured and how to add one. */
export const noToolServers: ToolCatalog = { servers: () => [] };

export function toolsCommand(deps: ToolsCommandDeps): CommandSpec {
  const { catalog, access, settings } = deps;
  const now = deps.now ?? Date.now;
  const names = () => catalog.servers().map((s) => s.name);
  return {
    name: 'tools',
    description: 'Tool servers and what applies here (admins: enable or disable one here or workspace-wide)',
    options: [
      { name: 'action', description: 'list, enable or disable', type: 'string', choices: [...ACTIONS] },
      {
        name: 'server',
        description: 'The tool server to switch',
        type: 'string',
        maxLength: 32,
        autocomplete: (partial) => names().filter((n) => n.toLowerCase().includes(partial.toLowerCase())),
      },
      {
        name: 'scope',
        description: 'here (default) or workspace',
        type: 'string',
        choices: [...SCOPES],
      },
    ],
    access: 'everyone',
    ephemeral: true,
    readOnly: (options) => options.action === undefined || options.action === 'list',
    handler: async ({ invocation, options, locale, spell, isAdmin }) => {
      const ref = invocation.conversation;
      const scope = toolScopeOf(ref, invocation.author.id);
      const action = (options.action as (typeof ACTIONS)[number] | undefined) ?? 'list';
      const servers = catalog.servers();
      if (action === 'list') {
        // The built-in tool is not a server to switch; it is named so the list holds every tool offered.
        const faqLine = deps.faqTool?.() ? [t(locale, 'tools.faq')] : [];
        if (servers.length === 0) return { text: [...faqLine, t(locale, 'tools.none')].join('\n') };
        const layers = await access.layers(scope);
        const rows = servers.map((server) =>
          t(locale, 'tools.row', {
            name: server.name,
            transport: server.transport,
            state: describeState(server, locale, now()),
            here: describeVerdict(access.verdict(server.name, scope, layers), locale),
          }),
        );
        const lines = [t(locale, 'tools.header'), ...rows, t(locale, 'tools.hint', {}, spell), ...faqLine];
        return { text: lines.join('\n') };
      }
      if (!isAdmin) return { text: t(locale, 'cmd.denied', { name: `tools ${action}` }, spell) };
      const known = servers.map((s) => s.name);
      const typed = typeof options.server === 'string' ? options.server.trim() : '';
      if (!typed) return { text: unknownLine(locale, spell, 'tools.need_server', { action }, known) };
      const name = known.includes(typed) ? typed : sameIgnoringCase(typed, known);
      if (!name) return { text: unknownLine(locale, spell, 'tools.unknown', { name: typed }, known) };
      const on = action === 'enable';
      const wide = options.scope === 'workspace';
      const key = wide ? workspaceKey(ref) : conversationKey(ref);
      const current = await settings.get(key);
      await settings.update(key, { tools: { ...current.tools, [name]: on } });
      const lines = [t(locale, `tools.${action}d_${wide ? 'workspace' : 'here'}`, { name })];
      const verdict = access.verdict(name, scope, await access.layers(scope));
      const note = afterSwitch(verdict, on, wide ? 'workspace' : 'conversation', locale);
      if (note) lines.push(note);
      return { text: lines.join('\n') };
    },
  };
}

function describeState(server: ToolServerState, locale: Locale, now: number): string {
  const state =
    server.state === 'failed'
      ? server.retryAt && server.retryAt > now
        ? t(locale, 'tools.state.failed_retry', {
            error: server.error ?? '?',
            seconds: Math.ceil((server.retryAt - now) / 1000),
          })
        : t(locale, 'tools.state.failed', { error: server.error ?? '?' })
      : t(locale, `tools.state.${server.state}`);
  if (server.tools.length === 0) return state;
  const shown = server.tools
    .slice(0, SHOWN_TOOLS)
    .map((tool) => `\`${tool.name}\``)
    .join(', ');
  const extra = server.tools.length - SHOWN_TOOLS;
  const names = extra > 0 ? t(locale, 'tools.list_more', { names: shown, count: extra }) : shown;
  const count = server.tools.length;
  return `${state}, ${t(locale, count === 1 ? 'tools.list_one' : 'tools.list', { count, names })}`;
}

function describeVerdict(verdict: ToolVerdict, locale: Locale): string {
  if (verdict.allowed) return t(locale, 'tools.here.on');
  if ('limit' in verdict) return t(locale, `tools.here.${verdict.limit}`);
  return t(locale, 'tools.here.off', { layer: t(locale, `tools.layer.${verdict.switchedOff}`) });
}

/** What the caller should know after a switch: config still limits it, or a closer layer overrides it. */
function afterSwitch(
  verdict: ToolVerdict,
  on: boolean,
  stored: SwitchLayer,
  locale: Locale,
): string | undefined {
  if (!verdict.allowed && 'limit' in verdict)
    return on
      ? t(locale, 'tools.still_limited', { why: t(locale, `tools.why.${verdict.limit}`) })
      : undefined;
  const decided = verdict.allowed ? verdict.switchedOn : verdict.switchedOff;
  if (verdict.allowed === on || !decided || decided === stored) return undefined;
  return t(locale, 'tools.overridden', {
    state: t(locale, verdict.allowed ? 'word.on' : 'word.off'),
    layer: t(locale, `tools.layer.${decided}`),
  });
}

/** `Weather` for `weather`, when exactly one server is named so. */
function sameIgnoringCase(typed: string, known: string[]): string | undefined {
  const matches = known.filter((n) => n.toLowerCase() === typed.toLowerCase());
  return matches.length === 1 ? matches[0] : undefined;
}

function unknownLine(
  locale: Locale,
  spell: CommandSpeller,
  key: Extract<MessageKey, 'tools.need_server' | 'tools.unknown'>,
  vars: Record<string, string>,
  known: string[],
): string {
  if (known.length === 0)
    return key === 'tools.unknown' ? t(locale, 'tools.unknown_none', vars) : t(locale, 'tools.none');
  return t(locale, key, { ...vars, names: known.join(', ') }, spell);
}
