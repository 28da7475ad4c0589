/**
 * A tool catalog standing in for the MCP client (src/tools/types.ts `ToolCatalog`), and the matching
 * `mcp.servers` config: four servers in the states `/tools` distinguishes.
 */
import type { ToolCatalog, ToolServerState } from '../../src/tools/types.ts';

/** Seconds until a failed server's next reconnect, as the fake reports it at every look. */
export const RETRY_IN_SEC = 30;

export function fakeToolCatalog(): ToolCatalog {
  return {
    servers: (): ToolServerState[] => [
      {
        name: 'weather',
        transport: 'http',
        state: 'ready',
        tools: [{ name: 'get_forecast', description: 'Forecast for a city' }, { name: 'get_alerts' }],
      },
      {
        name: 'files',
        transport: 'stdio',
        state: 'failed',
        error: 'exited with code 1',
        retryAt: Date.now() + RETRY_IN_SEC * 1000,
        tools: [],
      },
      { name: 'ops', transport: 'stdio', state: 'ready', tools: [{ name: 'deploy' }] },
      { name: 'legacy', transport: 'stdio', state: 'disabled', tools: [] },
    ],
  };
}

/**
 * `mcp.servers` for the fake catalog: `ops` only in `opsChannel`, `legacy` turned off. The app's MCP
 * client connects these too: the commands do not exist and nothing listens at the URL, so they fail at
 * once (nothing is spawned or downloaded) while `/tools` shows the fake catalog.
 */
export function fakeToolServers(opsChannel: string, users?: { ops?: string[] }) {
  return {
    servers: {
      weather: { url: 'http://127.0.0.1:9/mcp' },
      files: { command: '/nonexistent/files-mcp', args: ['/srv'] },
      ops: {
        command: '/nonexistent/ops-mcp',
        channels: [opsChannel],
        ...(users?.ops ? { users: users.ops } : {}),
      },
      legacy: { command: '/nonexistent/legacy-mcp', enabled: false },
    },
  };
}

/** What `/tools` lists for the fake catalog (fakeToolServers) outside the ops channel, to anyone. */
export const FAKE_TOOLS_LISTING = [
  '**Tool servers** (what applies here, for you):',
  '• **weather** (http) — ready, 2 tools: `get_forecast`, `get_alerts` — ✅ offered here',
  '• **files** (stdio) — failed: exited with code 1 (retrying in 30 s) — ✅ offered here',
  '• **ops** (stdio) — ready, 1 tool: `deploy` — 🚫 not allowed here (config allows it only in some channels)',
  '• **legacy** (stdio) — turned off in config — 🚫 turned off in config',
  'Admins: /tools enable <server> or /tools disable <server>; add `workspace` for the whole workspace.',
].join('\n');
