import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { packageRoot } from '../util/package-root.ts';
import { expandEnvRefs, MissingEnvError } from './env-refs.ts';
import { type Config, configSchema, REGIONS } from './schema.ts';

export const PACKAGE_ROOT = packageRoot();
export const DEFAULT_CONFIG_PATH = path.join(PACKAGE_ROOT, 'config', 'default.yaml');
export const LOCAL_CONFIG_PATH = path.join(PACKAGE_ROOT, 'config', 'local.yaml');

/** A configuration problem a person can fix; `main` prints the message and exits with code 2. */
export class ConfigError extends Error {
  readonly code = 'config';
  readonly exitCode = 2;
}

type Env = Record<string, string | undefined>;

/** Environment variables and the config keys they override. */
const ENV_KEYS: ReadonlyArray<[env: string, path: string[], kind: 'string' | 'int']> = [
  ['DASHSCOPE_API_KEY', ['qwen', 'apiKey'], 'string'],
  ['DASHSCOPE_BASE_URL', ['qwen', 'baseUrl'], 'string'],
  ['QWEN_REGION', ['qwen', 'region'], 'string'],
  ['QWEN_MODEL', ['qwen', 'defaultModel'], 'string'],
  ['QWENBOT_STORE', ['store', 'url'], 'string'],
  ['QWENBOT_FAQ', ['faq', 'path'], 'string'],
  ['LOG_LEVEL', ['log', 'level'], 'string'],
  ['PORT', ['http', 'port'], 'int'],
  ['QWENBOT_INSTANCE', ['instanceId'], 'string'],
  ['DISCORD_TOKEN', ['discord', 'token'], 'string'],
  ['DISCORD_API_URL', ['discord', 'apiUrl'], 'string'],
  ['SLACK_BOT_TOKEN', ['slack', 'botToken'], 'string'],
  ['SLACK_SIGNING_SECRET', ['slack', 'signingSecret'], 'string'],
  ['SLACK_APP_TOKEN', ['slack', 'appToken'], 'string'],
  ['SLACK_API_URL', ['slack', 'apiUrl'], 'string'],
];

/** Keys that hold secrets: never accepted from a file, so they cannot be committed by accident. */
const SECRET_KEYS = new Map(
  ENV_KEYS.filter(([env]) => /KEY|TOKEN|SECRET/.test(env) && env !== 'DASHSCOPE_BASE_URL').map(
    ([env, p]) => [p.join('.'), env] as const,
  ),
);

/** Values `${VAR}` references brought into a loaded config (MCP env and headers): the logger scrubs them. */
const configSecrets = new WeakMap<Config, string[]>();

export function secretsOf(config: Config): string[] {
  return configSecrets.get(config) ?? [];
}

export interface LoadOptions {
  env?: Env;
  /** The defaults file (tests); config/default.yaml when omitted. */
  defaults?: string;
  /** Extra YAML file layered over the defaults; QWENBOT_CONFIG or config/local.yaml when omitted; null for none. */
  file?: string | null;
  /** Object layered over everything (tests). */
  overrides?: Record<string, unknown>;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  // Every file is checked for secrets, the shipped defaults too: an edited default.yaml is committed
  // (and copied into the Docker image) as easily as a local file.
  const defaultsPath = options.defaults ?? DEFAULT_CONFIG_PATH;
  let merged = readYaml(defaultsPath);
  rejectSecrets(merged, defaultsPath);
  let userLayer: Record<string, unknown> = {};
  const overridePath =
    options.file ?? env.QWENBOT_CONFIG ?? (existsSync(LOCAL_CONFIG_PATH) ? LOCAL_CONFIG_PATH : undefined);
  if (overridePath) {
    if (!existsSync(overridePath)) {
      throw new ConfigError(`QWENBOT_CONFIG: file not found: ${overridePath}`);
    }
    const layer = readYaml(overridePath);
    rejectSecrets(layer, overridePath);
    merged = deepMerge(merged, layer);
    userLayer = layer;
  }
  if (options.overrides) {
    merged = deepMerge(merged, options.overrides);
    userLayer = deepMerge(userLayer, options.overrides);
  }
  for (const [name, keyPath, kind] of ENV_KEYS) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (kind === 'int') {
      if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name}: "${raw}" is not a whole number`);
      value = Number(raw);
    }
    merged = deepMerge(merged, nest(keyPath, value));
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0], merged, env, userLayer));
  const config = parsed.data;
  try {
    configSecrets.set(config, expandEnvRefs(config.mcp.servers, env));
  } catch (err) {
    throw err instanceof MissingEnvError ? new ConfigError(err.message) : err;
  }
  config.qwen.baseUrl ??= REGIONS[config.qwen.region];
  config.qwen.baseUrl = config.qwen.baseUrl.replace(/\/+$/, '');
  return config;
}

function readYaml(file: string): Record<string, unknown> {
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const where = first.linePos?.[0];
    throw new ConfigError(
      `${file}${where ? `:${where.line}:${where.col}` : ''}: ${first.message.split('\n')[0]}`,
    );
  }
  const value: unknown = doc.toJS() ?? {};
  if (!isPlainObject(value))
    throw new ConfigError(`${file}: expected a mapping of settings at the top level`);
  return value;
}

function rejectSecrets(layer: Record<string, unknown>, file: string): void {
  for (const [dotted, env] of SECRET_KEYS) {
    if (getPath(layer, dotted.split('.')) !== undefined) {
      throw new ConfigError(
        `${dotted}: secrets are read from the environment only; remove it from ${file} and set ${env}`,
      );
    }
  }
}

function describeIssue(
  issue: z.core.$ZodIssue | undefined,
  input: Record<string, unknown>,
  env: Env,
  userLayer: Record<string, unknown>,
): string {
  if (!issue) return 'config: invalid configuration';
  const dotted = issue.path.map(String).join('.');
  // Name the variable unless the bad value came from the operator's file (then the key is what to fix).
  const envName = ENV_KEYS.find(
    ([name, p]) => p.join('.') === dotted && (env[name] || getPath(userLayer, p) === undefined),
  )?.[0];
  const key = envName ? `${envName} (${dotted})` : dotted || 'config';
  const got = getPath(input, issue.path.map(String));
  const shown =
    got === undefined || isPlainObject(got) || SECRET_KEYS.has(dotted) ? '' : ` (got ${JSON.stringify(got)})`;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys')
    message = `unknown setting ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return `${key}: ${message}${shown}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getPath(obj: unknown, keys: string[]): unknown {
  let cur = obj;
  for (const k of keys) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function nest(keys: string[], value: unknown): Record<string, unknown> {
  return keys.reduceRight<Record<string, unknown>>(
    (acc, k) => ({ [k]: acc }),
    value as Record<string, unknown>,
  );
}

export function deepMerge(
  base: Record<string, unknown>,
  layer: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(layer)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}
