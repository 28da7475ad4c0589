/**
 * MCP servers for tests: the reference "everything" server from npm over stdio (a real child process),
 * and a small Streamable HTTP server built on the SDK, on 127.0.0.1 (the everything server's HTTP mode
 * listens on every address at a fixed port).
 */
import { randomUUID } from 'node:crypto';
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
  /** `sleep` calls running now, and those the client cancelled. */
  sleeping: number;
  cancelled: number;
  close(): Promise<void>;
}

/**
 * Tools: `long-text` (n characters), `fail` (an isError result), `sleep` (ms, honours cancellation),
 * `add-tool` (registers another tool: `notifications/tools/list_changed`), `wait-for-peer` (returns only once `peers` calls are in progress at the same time).
 */
export async function startHttpMcp(port = 0): Promise<TestHttpMcp> {
  const state: TestHttpMcp = {
    url: '',
    authorizations: [],
    waiting: 0,
    sleeping: 0,
    cancelled: 0,
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
        state.sleeping++;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          extra.signal.addEventListener('abort', () => {
            state.cancelled++;
            clearTimeout(timer);
            resolve();
          });
        });
        state.sleeping--;
        return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
      },
    );
    server.registerTool(
      'add-tool',
      {
        description: 'Adds a tool named `name` (the server then says its list changed)',
        inputSchema: { name: z.string() },
      },
      async ({ name }) => {
        server.registerTool(name, { description: 'Added at run time' }, async () => ({
          content: [{ type: 'text', text: `${name} ran` }],
        }));
        return { content: [{ type: 'text', text: `added ${name}` }] };
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
  // One server and transport per session (the SDK's stateful example), so a client's
  // `notifications/cancelled` reaches the call it cancels.
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http: Server = createServer(async (req: IncomingMessage, res) => {
    state.authorizations.push(req.headers.authorization);
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    if (known) return void (await known.handleRequest(req, res));
    if (req.method !== 'POST') return void res.writeHead(400).end();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await build().connect(transport);
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
