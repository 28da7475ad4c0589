import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../config/mcp-schema.ts';
import type { Logger } from '../log.ts';
import { loadMcpSdk, type McpSdk, mcpErrorName } from './mcp-sdk.ts';
import type { ToolServerState, ToolServerStateName } from './types.ts';

/** Timers the reconnect backoff runs on (tests pass fake ones, or rely on vitest's fake timers). */
export interface BackoffTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: BackoffTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ConnectionOptions {
  log: Logger;
  timers?: BackoffTimers;
  /** First reconnect delay; doubles per failed attempt up to `retryMaxMs`. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Start-up (spawn or HTTP handshake, initialize, tools/list) may take this long. */
  connectTimeoutMs?: number;
  /** Told whenever the state or the tool list changes. */
  onChange?: () => void;
}

/** What the last lines of a stdio server's stderr said; kept short for the log. */
const STDERR_TAIL_CHARS = 600;

/**
 * One configured MCP server: connects (stdio child or Streamable HTTP), lists its tools, keeps the list
 * current (`notifications/tools/list_changed`), runs calls, and reconnects with exponential backoff
 * after a failed start or a dropped connection. It never throws at its owner: a failure is a state.
 */
export class McpConnection {
  readonly name: string;
  readonly transport: 'stdio' | 'http';
  private readonly config: McpServerConfig;
  private readonly opts: ConnectionOptions;
  private readonly timers: BackoffTimers;
  private readonly log: Logger;
  private stateName: ToolServerStateName = 'starting';
  private error: string | undefined;
  private retryAt: number | undefined;
  private retryTimer: unknown;
  private attempts = 0;
  private client: Client | undefined;
  private toolList: Tool[] = [];
  private closing = false;
  private stderrTail = '';
  /** Settles when the current connection attempt has ended (ready or failed). */
  private attempt: Promise<void> = Promise.resolve();

  constructor(name: string, config: McpServerConfig, opts: ConnectionOptions) {
    this.name = name;
    this.config = config;
    this.transport = 'command' in config ? 'stdio' : 'http';
    this.opts = opts;
    this.timers = opts.timers ?? systemTimers;
    this.log = opts.log.child({ mcpServer: name, transport: this.transport });
    if (!config.enabled) this.stateName = 'disabled';
  }

  /** Starts connecting in the background; `settled()` resolves once this first attempt ended. */
  start(): void {
    if (this.stateName === 'disabled' || this.closing) return;
    this.attempt = this.connect();
  }

  /** The current attempt has ended (ready or failed); for tests and start-up logs. */
  settled(): Promise<void> {
    return this.attempt;
  }

  get state(): ToolServerStateName {
    return this.stateName;
  }

  get tools(): Tool[] {
    return this.stateName === 'ready' ? this.toolList : [];
  }

  view(): ToolServerState {
    return {
      name: this.name,
      transport: this.transport,
      state: this.stateName,
      ...(this.error ? { error: this.error } : {}),
      ...(this.retryAt !== undefined ? { retryAt: this.retryAt } : {}),
      tools: this.toolList.map((t) => ({
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
      })),
    };
  }

  /** Runs one tool. Rejects with the SDK's error (McpError for protocol errors and timeouts). */
  async call(
    tool: string,
    args: Record<string, unknown>,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<CallToolResult> {
    const client = this.client;
    if (!client || this.stateName !== 'ready') throw new Error(`server ${this.name} is ${this.stateName}`);
    try {
      const result = await client.callTool({ name: tool, arguments: args }, undefined, {
        signal: options.signal,
        timeout: options.timeoutMs,
      });
      return result as CallToolResult;
    } catch (err) {
      // The connection itself broke (not a tool's own error): reconnect.
      const protocol = mcpErrorName(err);
      if (!options.signal.aborted && (protocol === undefined || protocol === 'ConnectionClosed'))
        this.fail(err, client);
      throw err;
    }
  }

  /** Stops retrying and closes the connection (a stdio child is ended: stdin closed, then signalled). */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryAt = undefined;
    // Also a connection still starting: closing its transport ends the attempt (and a stdio child).
    const client = this.client;
    this.client = undefined;
    await client?.close().catch((err: unknown) => this.log.debug({ err }, 'MCP client close failed'));
    await this.attempt.catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.setState('starting');
    this.attempts++;
    let sdk: McpSdk;
    try {
      sdk = await loadMcpSdk();
    } catch (err) {
      this.log.error({ err: describe(err) }, 'could not load the MCP SDK');
      this.error = describe(err);
      this.setState('failed');
      return;
    }
    if (this.closing) return;
    const client = new sdk.Client(
      { name: 'qwenbot', version: '1.0.0' },
      {
        capabilities: {},
        listChanged: {
          tools: {
            onChanged: (err, tools) => {
              if (err) return this.log.warn({ err: describe(err) }, 'could not refresh the tool list');
              if (this.client !== client || !tools) return;
              this.toolList = tools;
              this.log.info({ tools: tools.length }, 'MCP server tool list changed');
              this.opts.onChange?.();
            },
          },
        },
      },
    );
    // While connecting, the failed connect says why (more than "closed" does).
    client.onclose = () => {
      if (this.client === client && this.stateName === 'ready')
        this.fail(new Error(this.closedReason()), client);
    };
    client.onerror = (err) => this.log.debug({ err: describe(err) }, 'MCP transport error');
    this.client = client;
    try {
      const timeout = this.opts.connectTimeoutMs ?? 30_000;
      await client.connect(this.openTransport(sdk), { timeout });
      const tools: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { timeout });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      if (this.client !== client || this.closing) return;
      this.toolList = tools;
      this.attempts = 0;
      this.error = undefined;
      this.retryAt = undefined;
      this.setState('ready');
      this.log.info({ tools: tools.length }, 'MCP server ready');
    } catch (err) {
      this.fail(err, client);
    }
  }

  private openTransport(sdk: McpSdk): Transport {
    const config = this.config;
    if ('command' in config) {
      const transport = new sdk.StdioClientTransport({
        command: config.command,
        args: config.args,
        env: config.env,
        stderr: 'pipe',
      });
      this.stderrTail = '';
      transport.stderr?.on('data', (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
      });
      return transport;
    }
    return new sdk.StreamableHTTPClientTransport(new URL(config.url), {
      requestInit: { headers: config.headers },
    });
  }

  private closedReason(): string {
    return this.transport === 'stdio' ? 'the server process exited' : 'the connection closed';
  }

  /** Marks the server failed (once per connection) and schedules the next attempt. */
  private fail(err: unknown, client: Client): void {
    if (this.client !== client || this.closing || this.stateName === 'failed') return;
    this.client = undefined;
    void client.close().catch(() => undefined);
    const delay = Math.min(
      this.opts.retryMaxMs ?? 300_000,
      (this.opts.retryMinMs ?? 1000) * 2 ** Math.max(0, this.attempts - 1),
    );
    this.error = mcpErrorName(err) === 'ConnectionClosed' ? this.closedReason() : describe(err);
    this.retryAt = this.timers.now() + delay;
    this.setState('failed');
    this.log.warn(
      {
        reason: this.error,
        attempt: this.attempts,
        retryInMs: delay,
        ...(this.stderrTail.trim() ? { stderr: this.stderrTail.trim() } : {}),
      },
      'MCP server unavailable; retrying later (answers go on without its tools)',
    );
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closing) this.attempt = this.connect();
    }, delay);
  }

  private setState(state: ToolServerStateName): void {
    if (this.stateName === state) return;
    this.stateName = state;
    this.opts.onChange?.();
  }
}

/** A short reason for people and logs: the error's message, never its config (env and headers hold secrets). */
function describe(err: unknown): string {
  if (mcpErrorName(err) === 'RequestTimeout') return 'no answer in time';
  const code = (err as { code?: unknown })?.code;
  if (code === 'ENOENT') return 'command not found';
  if (code === 'EACCES') return 'command not executable';
  const message = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: { code?: unknown } })?.cause?.code;
  const line = message.split('\n')[0]?.slice(0, 200) || 'unknown error';
  return typeof cause === 'string' ? `${line} (${cause})` : line;
}
