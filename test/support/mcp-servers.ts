/**
 * MCP servers for tests: the reference "everything" server from npm over stdio (a real child process),
 * and a small Streamable HTTP server built on the SDK, on 127.0.0.1 (the everything server's HTTP mode
 * listens on every address at a fixed port).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const EVERYTHING = path.resolve(
  import.meta.dirname,
  '../../node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);

/** `${NAME}` as written in a config file. */
export const envRef = (name: string) => `\${${name}}`;

/** `mcp.servers.<name>` for the everything server over stdio. */
export function everythingStdio(): { command: string; args: string[] } {
  return { command: process.execPath, args: [EVERYTHING, 'stdio'] };
}

export interface TestHttpMcp {
  url: string;
  /** Authorization headers the server received, in order. */
  authorizations: Array<string | undefined>;
  /** Calls of `wait-for-peer` in progress right now (parallel calls meet there). */
  waiting: number;
  close(): Promise<void>;
}

/**
 * Tools: `long-text` (n characters), `fail` (an isError result), `sleep` (ms, honours cancellation),
 * `wait-for-peer` (returns only once `peers` calls are in progress at the same time).
 */
export async function startHttpMcp(port = 0): Promise<TestHttpMcp> {
  const state: TestHttpMcp = {
    url: '',
    authorizations: [],
    waiting: 0,
    close: async () => undefined,
  };
  const meet: Array<() => void> = [];
  const build = () => {
    const server = new McpServer({ name: 'test-http', version: '1.0.0' });
    server.registerTool(
      'long-text',
      { description: 'Returns n characters', inputSchema: { n: z.number() } },
      async ({ n }) => ({ content: [{ type: 'text', text: 'x'.repeat(n) }] }),
    );
    server.registerTool('fail', { description: 'Always fails', inputSchema: {} }, async () => ({
      isError: true,
      content: [{ type: 'text', text: 'the weather service is down' }],
    }));
    server.registerTool(
      'sleep',
      { description: 'Waits ms milliseconds', inputSchema: { ms: z.number() } },
      async ({ ms }, extra) => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          extra.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
      },
    );
    server.registerTool(
      'wait-for-peer',
      {
        description: 'Returns once `peers` calls wait at once',
        inputSchema: { peers: z.number(), tag: z.string() },
      },
      async ({ peers, tag }) => {
        state.waiting++;
        await new Promise<void>((resolve) => {
          meet.push(resolve);
          if (state.waiting >= peers) for (const wake of meet.splice(0)) wake();
        });
        return { content: [{ type: 'text', text: `met as ${tag}` }] };
      },
    );
    return server;
  };
  // Stateless: a fresh server and transport per request, as the SDK's stateless example does.
  const http: Server = createServer(async (req: IncomingMessage, res) => {
    state.authorizations.push(req.headers.authorization);
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const server = build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  state.close = () =>
    new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  return state;
}
