/**
 * Who may use which tool server: the config's allow-lists and `enabled`, then an admin's switch
 * (`/tools enable|disable`), stored with the conversation's settings. Config is the ceiling: a switch
 * turns a server off or back on only within what config allows.
 */
import type { McpServerConfig } from '../config/mcp-schema.ts';
import type { ConversationSettings, SettingsStore } from '../core/settings.ts';
import type { ConversationRef } from '../core/types.ts';
import { conversationKey } from '../core/types.ts';
import type { LoadedToolSettings, ToolAccess, ToolScope } from './types.ts';

/** Which layer's switch decided: the conversation's own, its channel's (for a thread), the workspace's. */
export type SwitchLayer = 'conversation' | 'channel' | 'workspace';

/** Why config does not offer a server here. */
export type ConfigLimit = 'config-off' | 'channel' | 'user';

export type ToolVerdict =
  | { allowed: true; switchedOn?: SwitchLayer }
  | { allowed: false; limit: ConfigLimit }
  | { allowed: false; switchedOff: SwitchLayer };

/** The settings a conversation's switches come from, each layer apart (the thread's channel, if any). */
export interface SwitchLayers {
  conversation: ConversationSettings;
  channel?: ConversationSettings;
  workspace: ConversationSettings;
}

/** Store keys of a scope's layers: `platform:workspace:channel[:thread]` → its channel's and workspace's. */
export function layerKeys(conversation: string): {
  conversation: string;
  channel?: string;
  workspace: string;
} {
  const parts = conversation.split(':');
  const channel = parts.slice(0, 3).join(':');
  return {
    conversation,
    ...(channel !== conversation ? { channel } : {}),
    workspace: parts.slice(0, 2).join(':'),
  };
}

/** The scope a person asking in a conversation has (what the answer loop passes to `allowedServers`). */
export function toolScopeOf(ref: ConversationRef, userId: string): ToolScope {
  return {
    platform: ref.platform,
    // Discord DMs have no guild: their conversation keys use the placeholder workspace "dm".
    ...(ref.isDM && ref.workspace === 'dm' ? {} : { workspaceId: ref.workspace }),
    conversation: conversationKey(ref),
    channelId: ref.channel,
    userId,
    isDM: ref.isDM,
  };
}

/**
 * What config allows, before any switch. In a channel: the `channels` list (a thread counts as its
 * parent channel, which `scope.channelId` already is) and the `users` list. In a DM channel lists do
 * not apply: the `users` list decides; a server restricted to channels and to no users is not offered
 * in DMs (a DM is none of its channels, and offering it to everyone there would undo the restriction).
 */
export function configLimit(server: McpServerConfig | undefined, scope: ToolScope): ConfigLimit | undefined {
  if (!server) return undefined;
  if (!server.enabled) return 'config-off';
  const listedUser = !server.users || server.users.includes(scope.userId);
  if (scope.isDM) {
    if (server.users) return listedUser ? undefined : 'user';
    return server.channels ? 'channel' : undefined;
  }
  if (server.channels && !server.channels.includes(scope.channelId)) return 'channel';
  return listedUser ? undefined : 'user';
}

/** The switch that applies: the conversation's own, else its channel's, else the workspace's; unset: on. */
export function switchOf(name: string, layers: SwitchLayers): { on: boolean; layer?: SwitchLayer } {
  const order: Array<[SwitchLayer, ConversationSettings | undefined]> = [
    ['conversation', layers.conversation],
    ['channel', layers.channel],
    ['workspace', layers.workspace],
  ];
  for (const [layer, settings] of order) {
    const value = settings?.tools?.[name];
    if (value !== undefined) return { on: value, layer };
  }
  return { on: true };
}

export interface ToolAccessDeps {
  /** `config.mcp.servers`: allow-lists and `enabled` per server (a server not named here has none). */
  servers: Record<string, McpServerConfig>;
  settings: SettingsStore;
}

/** `ToolAccess` from config and the stored switches. */
export class SettingsToolAccess implements ToolAccess {
  private readonly deps: ToolAccessDeps;

  constructor(deps: ToolAccessDeps) {
    this.deps = deps;
  }

  /** One server's verdict in a scope, from layers already loaded (no I/O). */
  verdict(name: string, scope: ToolScope, layers: SwitchLayers): ToolVerdict {
    const limit = configLimit(this.deps.servers[name], scope);
    if (limit) return { allowed: false, limit };
    const { on, layer } = switchOf(name, layers);
    if (!on) return { allowed: false, switchedOff: layer ?? 'conversation' };
    return layer ? { allowed: true, switchedOn: layer } : { allowed: true };
  }

  /**
   * The allowed subset, from the settings an answer turn already read (`readTurnStart`: the thread's
   * settings merged over its channel's, and the workspace's), with no store read of its own.
   */
  allowedFrom(scope: ToolScope, servers: string[], loaded: LoadedToolSettings): Set<string> {
    const layers = { conversation: loaded.settings, workspace: loaded.workspace };
    return new Set(servers.filter((name) => this.verdict(name, scope, layers).allowed));
  }

  /** The layers of a scope in one store read (none when cached: SQLite, single writer). */
  async layers(scope: ToolScope): Promise<SwitchLayers> {
    const keys = layerKeys(scope.conversation);
    const wanted = [keys.conversation, ...(keys.channel ? [keys.channel] : []), keys.workspace];
    const { settings } = await this.deps.settings.loadWith(wanted);
    const [conversation = {}, ...rest] = settings;
    return {
      conversation,
      ...(keys.channel ? { channel: rest[0] ?? {} } : {}),
      workspace: rest.at(-1) ?? {},
    };
  }

  async allowedServers(
    scope: ToolScope,
    servers: string[],
    loaded?: LoadedToolSettings,
  ): Promise<Set<string>> {
    // Config alone may already say no to everything: then nothing needs reading.
    const possible = servers.filter((name) => !configLimit(this.deps.servers[name], scope));
    if (possible.length === 0) return new Set();
    if (loaded) return this.allowedFrom(scope, possible, loaded);
    const layers = await this.layers(scope);
    return new Set(possible.filter((name) => this.verdict(name, scope, layers).allowed));
  }
}
