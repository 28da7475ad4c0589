/**
 * Wires the real bot (config, store, openai SDK, ConversationService) to the DashScope simulator and a
 * recording reply surface, the way tests and benchmarks need it.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { type App, createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { Author, ConversationRef, IncomingMessage } from '../../src/core/types.ts';
import { createLogger } from '../../src/log.ts';
import type { ToolCatalog } from '../../src/tools/types.ts';
import { type DashScopeSim, type SimOptions, startDashScopeSim } from './dashscope-sim.ts';

export const TEST_API_KEY = 'sk-test-0123456789abcdef';

/** Collects log lines in memory (JSON), for asserting what was logged and what never was. */
export class LogSink extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  records(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface HarnessOptions {
  sim?: SimOptions;
  /** Config overrides layered over config/default.yaml. */
  config?: Record<string, unknown>;
  storeUrl?: string;
  /** Reuse a simulator (e.g. across a restart). */
  reuseSim?: DashScopeSim;
  /** Store namespace / Redis key prefix (one per test run on a shared Redis). */
  namespace?: string;
  /** The tool servers `/tools` lists (createApp's `toolCatalog`). */
  tools?: ToolCatalog;
}

export interface Harness {
  sim: DashScopeSim;
  app: App;
  config: Config;
  logs: LogSink;
  close(): Promise<void>;
}

/**
 * The simulator enforces no account limits unless a test asks for them (`rateLimits`); the bot is told
 * the same for the default model, so suites and benches measure the bot rather than wait out the paid
 * tier's 300 RPM. Rate-limit tests give `models` of their own, which replaces this.
 */
export const UNPACED_MODELS = { 'qwen-plus': { rpm: 1_000_000, tpm: 1_000_000_000 } };
/**
 * The same for the embedding model (`qwen.embeddingRpm`): at the shipped 300 RPM its requests are spaced
 * 200 ms apart, and a test making 40 FAQ searches waited 8 s of real time for nothing it checks.
 */
const UNPACED_EMBEDDINGS = { embeddingRpm: 1_000_000, embeddingTpm: 1_000_000_000 };

/** The `qwen` settings every harness starts from: quick retries, short timeouts, unpaced embeddings. */
export function testQwen(totalTimeoutMs: number): Record<string, number> {
  return { retryBaseDelayMs: 5, firstTokenTimeoutMs: 5000, totalTimeoutMs, ...UNPACED_EMBEDDINGS };
}

export function testConfig(
  baseUrl: string,
  storeUrl: string,
  overrides: Record<string, unknown> = {},
): Config {
  return loadConfig({
    file: null,
    env: {
      DASHSCOPE_API_KEY: TEST_API_KEY,
      DASHSCOPE_BASE_URL: baseUrl,
      QWENBOT_STORE: storeUrl,
      LOG_LEVEL: 'debug',
      // A shared store needs a name per instance: one per harness, unless the test gives one.
      ...(storeUrl.startsWith('redis') ? { QWENBOT_INSTANCE: uniqueInstance() } : {}),
    },
    overrides: {
      qwen: testQwen(10_000),
      streaming: { minEditIntervalMs: 0 },
      models: UNPACED_MODELS,
      // Each message answered at once: tests of debouncing set their own window.
      triggers: { debounceMs: 0 },
      ...overrides,
    },
  });
}

let instances = 0;
/** A fresh instance name (each harness on a shared store is its own instance). */
export function uniqueInstance(): string {
  return `test-${process.pid}-${++instances}`;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const sim = options.reuseSim ?? (await startDashScopeSim({ apiKey: TEST_API_KEY, ...options.sim }));
  const config = testConfig(sim.baseUrl, options.storeUrl ?? 'sqlite://:memory:', options.config);
  const logs = new LogSink();
  const log = createLogger({ level: 'debug', destination: logs, secrets: [TEST_API_KEY] });
  const app = await createApp(config, {
    log,
    namespace: options.namespace,
    ...(options.tools ? { toolCatalog: options.tools } : {}),
  });
  return {
    sim,
    app,
    config,
    logs,
    async close() {
      await app.close();
      if (!options.reuseSim) await sim.close();
    },
  };
}

export function channelRef(channel = 'C1', extra: Partial<ConversationRef> = {}): ConversationRef {
  return { platform: 'test', workspace: 'W1', channel, isDM: false, ...extra };
}

let seq = 0;
export function message(text: string, extra: Partial<IncomingMessage> = {}): IncomingMessage {
  seq++;
  return {
    id: `m${seq}-${Date.now()}`,
    conversation: channelRef(),
    author: { id: 'U1', name: 'Alice', isBot: false },
    text,
    attachments: [],
    addressed: true,
    receivedAt: Date.now(),
    ...extra,
  };
}

export const silentLogger = () => pino({ level: 'silent' });

/** A person in a channel, and an admin: the authors of the core command tests. */
export const aliceAuthor: Author = { id: 'U1', name: 'Alice', isBot: false };
export const adminAuthor: Author = { id: 'A1', name: 'Ada', isBot: false, isAdmin: true };
