/**
 * The MCP SDK, loaded on first use: with no `mcp.servers` configured the bot never loads it (with its
 * JSON-schema validator it holds ~6 MB of heap, a twentieth of an idle bot).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

export interface McpSdk {
  Client: typeof Client;
  StdioClientTransport: typeof StdioClientTransport;
  StreamableHTTPClientTransport: typeof StreamableHTTPClientTransport;
  McpError: typeof McpError;
  ErrorCode: typeof ErrorCode;
}

let loading: Promise<McpSdk> | undefined;
let loaded: McpSdk | undefined;

export function loadMcpSdk(): Promise<McpSdk> {
  loading ??= Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]).then(([client, stdio, http, types]) => {
    loaded = {
      Client: client.Client,
      StdioClientTransport: stdio.StdioClientTransport,
      StreamableHTTPClientTransport: http.StreamableHTTPClientTransport,
      McpError: types.McpError,
      ErrorCode: types.ErrorCode,
    };
    return loaded;
  });
  return loading;
}

/** Whether `err` is the SDK's protocol error with this code (false before the SDK was ever loaded). */
export function isMcpError(err: unknown, code: (sdk: McpSdk) => number): boolean {
  return loaded !== undefined && err instanceof loaded.McpError && err.code === code(loaded);
}

/** Whether `err` is any protocol error of the SDK (a tool's own failure, not a broken connection). */
export function isAnyMcpError(err: unknown): boolean {
  return loaded !== undefined && err instanceof loaded.McpError;
}
