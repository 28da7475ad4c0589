/**
 * The MCP client against real servers: the npm "everything" server as a child process over stdio, and
 * a Streamable HTTP server on 127.0.0.1. What the model would get back from each kind of call, and
 * what happens to a server that cannot start.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import type { ChatMessage, ChatTool } from '../../src/qwen/client.ts';
import { McpHub } from '../../src/tools/mcp-hub.ts';
import { ToolRegistry } from '../../src/tools/registry.ts';
import { LogSink } from '../support/harness.ts';
import { envRef, everythingStdio, startHttpMcp, type TestHttpMcp } from '../support/mcp-servers.ts';

const scope = {
  platform: 'test',
  workspaceId: 'W1',
  conversation: 'test:W1:C1',
  channelId: 'C1',
  userId: 'U1',
  isDM: false,
};
const noStatus = { signal: new AbortController().signal, onRunning: () => undefined };

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

function setup(servers: Record<string, unknown>, tools: Record<string, unknown> = {}, env = {}) {
  const config = loadConfig({ file: null, env, overrides: { mcp: { servers }, tools } });
  const logs = new LogSink();
  const log = createLogger({ level: 'debug', destination: logs });
  const hub = new McpHub(config.mcp.servers, { log });
  closers.push(() => hub.close());
  const registry = new ToolRegistry({ config, log, hub });
  return { config, logs, hub, registry };
}

/** The tool messages of a round, by call id. */
function results(messages: ChatMessage[]): Record<string, string> {
  return Object.fromEntries(
    messages
      .filter((m) => m.role === 'tool')
      .map((m) => [(m as { tool_call_id: string }).tool_call_id, String(m.content)]),
  );
}

const functionNameOf = (d: ChatTool) => (d.type === 'function' ? d.function.name : d.custom.name);

function childPids(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'server-everything'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

describe('MCP over stdio (the everything server from npm)', () => {
  it('lists its tools under server__tool names, runs two calls of one round, and ends its process on close', async () => {
    const { hub, registry } = setup({ everything: everythingStdio() });
    hub.start();
    await hub.settled();
    const [state] = hub.servers();
    expect(state).toMatchObject({ name: 'everything', transport: 'stdio', state: 'ready' });
    expect(state?.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(childPids()).toHaveLength(1);

    const tools = await registry.forScope(scope);
    const names = tools.definitions.map(functionNameOf);
    expect(names).toEqual(expect.arrayContaining(['everything__echo', 'everything__get-sum']));
    expect(names.every((n) => /^[a-zA-Z0-9_-]{1,64}$/.test(n))).toBe(true);
    const running: string[][] = [];
    const round = await tools.run(
      [
        { id: 'c1', name: 'everything__echo', arguments: '{"message":"hello there"}' },
        { id: 'c2', name: 'everything__get-sum', arguments: '{"a":2,"b":3}' },
      ],
      { ...noStatus, onRunning: (n) => running.push(n) },
    );
    expect(results(round.messages)).toEqual({ c1: 'Echo: hello there', c2: 'The sum of 2 and 3 is 5.' });
    expect(round.used).toEqual(['everything.echo', 'everything.get-sum']);
    // Both were running at once before either finished.
    expect(running[1]).toEqual(['everything.echo', 'everything.get-sum']);
    expect(running.at(-1)).toEqual([]);

    // The server dies: failed with the reason, then back (a new process) after the first pause.
    const [pid] = childPids();
    process.kill(pid ?? 0, 'SIGKILL');
    await vi.waitUntil(() => hub.servers()[0]?.state === 'failed', { timeout: 5000 });
    expect(hub.servers()[0]).toMatchObject({ error: 'the server process exited', tools: expect.any(Array) });
    expect((await registry.forScope(scope)).definitions).toEqual([]);
    await vi.waitUntil(() => hub.servers()[0]?.state === 'ready', { timeout: 15_000, interval: 50 });
    expect(childPids()).toHaveLength(1);
    expect(childPids()).not.toContain(pid);

    await hub.close();
    expect(childPids()).toEqual([]);
  }, 30_000);

  it('a command that cannot start is failed with its reason, logged without secrets, and retried with growing pauses', async () => {
    const config = loadConfig({
      file: null,
      env: { BROKEN_TOKEN: 'sekrit-token-value-42' },
      overrides: {
        mcp: {
          servers: { broken: { command: '/nonexistent/mcp-server', env: { TOKEN: envRef('BROKEN_TOKEN') } } },
        },
      },
    });
    const logs = new LogSink();
    let now = 1_000_000;
    const pending: Array<{ fn: () => void; ms: number }> = [];
    const timers = {
      now: () => now,
      setTimeout: (fn: () => void, ms: number) => pending.push({ fn, ms }),
      clearTimeout: () => undefined,
    };
    const hub = new McpHub(config.mcp.servers, {
      log: createLogger({ level: 'debug', destination: logs }),
      timers,
    });
    closers.push(() => hub.close());
    hub.start();
    await hub.settled();
    expect(hub.servers()).toEqual([
      {
        name: 'broken',
        transport: 'stdio',
        state: 'failed',
        error: 'command not found',
        retryAt: now + 1000,
        tools: [],
      },
    ]);
    for (const expected of [2000, 4000, 8000]) {
      const next = pending.shift();
      now += next?.ms ?? 0;
      next?.fn();
      await hub.settled();
      expect(pending.map((p) => p.ms)).toEqual([expected]);
    }
    expect(hub.servers()[0]?.state).toBe('failed');
    const warned = logs.records().filter((r) => r.msg?.toString().startsWith('MCP server unavailable'));
    expect(warned).toHaveLength(4);
    expect(warned[0]).toMatchObject({
      mcpServer: 'broken',
      reason: 'command not found',
      attempt: 1,
      retryInMs: 1000,
    });
    expect(logs.text).not.toContain('sekrit-token-value-42');
    // The registry offers nothing from a failed server.
    const registry = new ToolRegistry({ config, log: createLogger({ level: 'silent' }), hub });
    expect((await registry.forScope(scope)).definitions).toEqual([]);
  });
});

describe('MCP over Streamable HTTP', () => {
  let server: TestHttpMcp;

  it('sends the headers with their environment references expanded; errors, timeouts and long results come back as tool results', async () => {
    server = await startHttpMcp();
    closers.push(() => server.close());
    const { hub, registry } = setup(
      { web: { url: server.url, headers: { Authorization: `Bearer ${envRef('WEB_TOKEN')}` } } },
      { callTimeoutMs: 2000, resultMaxChars: 500 },
      { WEB_TOKEN: 'tok-from-env' },
    );
    hub.start();
    await hub.settled();
    expect(hub.servers()[0]).toMatchObject({ state: 'ready', transport: 'http' });
    expect(server.authorizations[0]).toBe('Bearer tok-from-env');
    const tools = await registry.forScope(scope);
    const round = await tools.run(
      [
        { id: 'long', name: 'web__long-text', arguments: '{"n":5000}' },
        { id: 'fail', name: 'web__fail', arguments: '{}' },
        { id: 'slow', name: 'web__sleep', arguments: '{"ms":20000}' },
        { id: 'a', name: 'web__wait-for-peer', arguments: '{"peers":2,"tag":"a"}' },
        { id: 'b', name: 'web__wait-for-peer', arguments: '{"peers":2,"tag":"b"}' },
        { id: 'nope', name: 'web__missing', arguments: '{}' },
        { id: 'json', name: 'web__sleep', arguments: '{"ms":' },
      ],
      noStatus,
    );
    const out = results(round.messages);
    expect(out.long?.length).toBeLessThanOrEqual(500);
    expect(out.long).toMatch(/^x+\n…\[cut: \d+ of 5000 characters shown\]$/);
    expect(out.fail).toBe('{"error":"the weather service is down"}');
    expect(out.slow).toBe('{"error":"timed out after 2 s; the call was cancelled"}');
    expect([out.a, out.b]).toEqual(['met as a', 'met as b']);
    expect(out.nope).toBe('{"error":"unknown tool \\"web__missing\\""}');
    expect(out.json).toBe('{"error":"arguments are not valid JSON; send a JSON object"}');
    expect(round.used).toEqual(['web.long-text', 'web.wait-for-peer']);
    // The assistant message carries every call, then one result per call, in the calls' order.
    expect(round.messages.map((m) => m.role)).toEqual(['assistant', ...Array(7).fill('tool')]);

    // A tool added on the server reaches the registry through the list_changed notification.
    await tools.run([{ id: 'add', name: 'web__add-tool', arguments: '{"name":"late-tool"}' }], noStatus);
    await vi.waitUntil(() => hub.servers()[0]?.tools.some((t) => t.name === 'late-tool'), { timeout: 5000 });
    expect((await registry.forScope(scope)).definitions.map(functionNameOf)).toContain('web__late-tool');
  }, 20_000);

  it('a server that is down at start is failed, and ready with its tools after the retry once it is up', async () => {
    // A free port: nothing listens there until the server starts below.
    const probe = await startHttpMcp();
    const url = probe.url;
    await probe.close();
    const pending: Array<() => void> = [];
    const config = loadConfig({ file: null, env: {}, overrides: { mcp: { servers: { web: { url } } } } });
    const timers = {
      now: Date.now,
      setTimeout: (fn: () => void) => pending.push(fn),
      clearTimeout: () => undefined,
    };
    const hub = new McpHub(config.mcp.servers, { log: createLogger({ level: 'silent' }), timers });
    closers.push(() => hub.close());
    const registry = new ToolRegistry({ config, log: createLogger({ level: 'silent' }), hub });
    hub.start();
    await hub.settled();
    expect(hub.servers()[0]).toMatchObject({ state: 'failed', transport: 'http', tools: [] });
    expect(hub.servers()[0]?.error).toMatch(/fetch failed|ECONNREFUSED/);
    expect((await registry.forScope(scope)).definitions).toEqual([]);

    server = await startHttpMcp(Number(new URL(url).port));
    closers.push(() => server.close());
    pending.shift()?.();
    await hub.settled();
    expect(hub.servers()[0]).toMatchObject({ state: 'ready' });
    expect(hub.servers()[0]).not.toHaveProperty('error');
    const names = (await registry.forScope(scope)).definitions.map(functionNameOf);
    expect(names).toContain('web__long-text');
  });
});
