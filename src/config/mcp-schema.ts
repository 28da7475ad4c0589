import { z } from 'zod';

/** Allow-lists and the on/off switch every MCP server takes, whatever its transport. */
const serverAccess = {
  /** Offer this server's tools only in these channels (a thread counts as its parent). Unset: everywhere. */
  channels: z.array(z.coerce.string()).optional(),
  /** Offer this server's tools only to these users (also in DMs). Unset: everyone. */
  users: z.array(z.coerce.string()).optional(),
  enabled: z.boolean().default(true),
};

/** `name: { command, args, env }`: a local process spoken to over stdio. */
const stdioServer = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Values may reference the environment as `${VAR}`; keep secrets out of the file. */
  env: z.record(z.string(), z.string()).default({}),
  ...serverAccess,
});

/** `name: { url, headers }`: a Streamable HTTP server. */
const httpServer = z.strictObject({
  url: z.url(),
  /** Values may reference the environment as `${VAR}` (e.g. `Authorization: Bearer ${WEATHER_TOKEN}`). */
  headers: z.record(z.string(), z.string()).default({}),
  ...serverAccess,
});

export const mcpServerSchema = z.union([stdioServer, httpServer]);
export type McpServerConfig = z.infer<typeof mcpServerSchema>;

const serverName = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,32}$/, 'letters, digits and dashes (at most 32), e.g. weather or my-files');

/** MCP servers in the `mcpServers` shape people use elsewhere. */
export const mcpSchema = z
  .strictObject({ servers: z.record(serverName, mcpServerSchema).default({}) })
  .default({ servers: {} });

/** The answer loop's limits on tool use (MCP tools and the FAQ's `search_faq`). */
export const toolsSchema = z
  .strictObject({
    /** Tool rounds per answer (each round runs every call the model asked for, side by side). */
    maxSteps: z.number().int().min(1).max(20).default(5),
    /** One tool call may take this long before it is cancelled and the model told it timed out. */
    callTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** A tool result longer than this is cut (with a marker saying so) before the model sees it. */
    resultMaxChars: z.number().int().min(200).max(200_000).default(8000),
  })
  .default({ maxSteps: 5, callTimeoutMs: 30_000, resultMaxChars: 8000 });
