/**
 * The contract between the MCP client (`src/tools/mcp-*.ts`: connects servers, runs their tools) and tool
 * access (`src/tools/access.ts`, `/tools`: who may use which server). Both sides import only this file.
 */
import type { ConversationSettings } from '../core/settings.ts';

/** Where a tool would run: the conversation and the person asking. */
export interface ToolScope {
  platform: string;
  /** Discord guild / Slack team; undefined in a DM without a workspace. */
  workspaceId?: string;
  /** The conversation key (`conversationKey(ref)`), the key settings are stored under. */
  conversation: string;
  /** The channel (for a thread: its parent channel), checked against `mcp.servers.<name>.channels`. */
  channelId: string;
  userId: string;
  isDM: boolean;
}

export type ToolServerStateName = 'starting' | 'ready' | 'failed' | 'disabled';

/** One configured MCP server as `/tools` and `/readyz` show it. */
export interface ToolServerState {
  name: string;
  transport: 'stdio' | 'http';
  state: ToolServerStateName;
  /** Why it failed (no secrets: a short reason such as "exited with code 1"). */
  error?: string;
  /** When the next reconnect is tried (epoch ms), while failed. */
  retryAt?: number;
  tools: Array<{ name: string; description?: string }>;
}

/** What the MCP side exposes to `/tools` and readiness. */
export interface ToolCatalog {
  servers(): ToolServerState[];
}

/** The settings an answer turn already read: the conversation's (a thread's over its channel's) and the workspace's. */
export interface LoadedToolSettings {
  settings: ConversationSettings;
  workspace: ConversationSettings;
}

/** What the MCP side asks before offering a server's tools in a conversation. */
export interface ToolAccess {
  /** The subset of `servers` whose tools may be offered in this scope; `loaded` spares a store read. */
  allowedServers(scope: ToolScope, servers: string[], loaded?: LoadedToolSettings): Promise<Set<string>>;
}

/** Everything allowed: the default when no access policy is wired. */
export const allowAllTools: ToolAccess = {
  allowedServers: async (_scope, servers) => new Set(servers),
};
