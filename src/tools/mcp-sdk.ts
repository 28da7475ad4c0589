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

/**
 * The name of the SDK's protocol error code `err` carries ('ConnectionClosed', 'RequestTimeout'…; a
 * code the SDK has no name for is `code <n>`); undefined for any other error, and always before the
 * SDK was ever loaded.
 */
export function mcpErrorName(err: unknown): string | undefined {
  if (loaded === undefined || !(err instanceof loaded.McpError)) return undefined;
  return loaded.ErrorCode[err.code] ?? `code ${err.code}`;
}
