import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../config/mcp-schema.ts';
import type { Logger } from '../log.ts';
import { type BackoffTimers, McpConnection } from './mcp-connection.ts';
import type { ToolCatalog, ToolServerState } from './types.ts';

export interface McpHubOptions {
  log: Logger;
  timers?: BackoffTimers;
  retryMinMs?: number;
  retryMaxMs?: number;
  connectTimeoutMs?: number;
}

/** A ready server's tool, as the registry offers it. */
export interface HubTool {
  server: string;
  tool: Tool;
}

/**
 * Every configured MCP server (`mcp.servers`), connected side by side in the background: start-up never
 * waits for them, and a server that fails is retried on its own while the others serve.
 */
export class McpHub implements ToolCatalog {
  private readonly connections = new Map<string, McpConnection>();
  private readonly log: Logger;

  constructor(servers: Record<string, McpServerConfig>, opts: McpHubOptions) {
    this.log = opts.log;
    for (const [name, config] of Object.entries(servers)) {
      this.connections.set(name, new McpConnection(name, config, opts));
    }
  }

  /** Starts connecting every enabled server; returns at once. */
  start(): void {
    for (const c of this.connections.values()) c.start();
    if (this.connections.size)
      this.log.info({ servers: [...this.connections.keys()] }, 'connecting MCP servers');
  }

  /** Resolves once every server's current connection attempt ended (ready or failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.connections.values()].map((c) => c.settled()));
  }

  servers(): ToolServerState[] {
    return [...this.connections.values()].map((c) => c.view());
  }

  /** The tools of every ready server. */
  tools(): HubTool[] {
    const out: HubTool[] = [];
    for (const c of this.connections.values()) for (const tool of c.tools) out.push({ server: c.name, tool });
    return out;
  }

  call(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<CallToolResult> {
    const connection = this.connections.get(server);
    if (!connection) return Promise.reject(new Error(`no MCP server "${server}"`));
    return connection.call(tool, args, options);
  }

  /** Closes every connection; stdio children are ended. */
  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((c) => c.close()));
  }
}
