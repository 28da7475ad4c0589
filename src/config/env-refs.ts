import type { McpServerConfig } from './mcp-schema.ts';

type Env = Record<string, string | undefined>;

/** `${VAR}` inside an `env` or `headers` value of an MCP server. */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** A `${VAR}` named a variable that is not set; `key` is the config key that holds the reference. */
export class MissingEnvError extends Error {
  readonly key: string;
  constructor(key: string, variable: string) {
    super(`${key}: environment variable ${variable} is not set`);
    this.key = key;
  }
}

/**
 * Replaces every `${VAR}` in the servers' `env` and `headers` values with the variable's value, so
 * secrets stay out of config files. Returns the values that came from the environment: they are
 * secrets as far as the logger is concerned. Throws MissingEnvError naming the key and the variable.
 */
export function expandEnvRefs(servers: Record<string, McpServerConfig>, env: Env): string[] {
  const secrets: string[] = [];
  for (const [name, server] of Object.entries(servers)) {
    const field = 'command' in server ? 'env' : 'headers';
    const values = 'command' in server ? server.env : server.headers;
    for (const [key, raw] of Object.entries(values)) {
      values[key] = raw.replace(REFERENCE, (_, variable: string) => {
        const value = env[variable];
        if (value === undefined || value === '')
          throw new MissingEnvError(`mcp.servers.${name}.${field}.${key}`, variable);
        secrets.push(value);
        return value;
      });
    }
  }
  return secrets;
}
