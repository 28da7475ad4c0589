import { secretsOf } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { ConversationService } from './core/conversation.ts';
import { startDocumentSweeper } from './core/documents.ts';
import { standardGuards } from './core/guards.ts';
import { MessageActions } from './core/message-actions.ts';
import { type Clock, type ModelPort, systemClock } from './core/ports.ts';
import { dailyQuota } from './core/usage.ts';
import { faqCommands } from './faq/commands.ts';
import { createFaq, type Faq } from './faq/service.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { QwenClient } from './qwen/client.ts';
import { completeChat } from './qwen/complete.ts';
import { QwenFiles } from './qwen/files.ts';
import { type LimitsClock, ModelLimits } from './qwen/limits.ts';
import { QwenTranscriber } from './qwen/transcribe.ts';
import { type Coordinator, LocalCoordinator, RedisCoordinator } from './store/coordination.ts';
import { closeStore, createStore, type Store } from './store/index.ts';
import { closeRedis, openRedis } from './store/redis-connection.ts';
import { startRetention } from './store/retention.ts';
import { SettingsToolAccess } from './tools/access.ts';
import { McpHub, type McpHubOptions } from './tools/mcp-hub.ts';
import { ToolRegistry } from './tools/registry.ts';
import { toolsCommand } from './tools/tools-command.ts';
import type { ToolCatalog } from './tools/types.ts';

export interface App {
  config: Config;
  log: Logger;
  store: Store;
  qwen: QwenClient;
  service: ConversationService;
  metrics: Metrics;
  coordinator: Coordinator;
  /** FAQ by meaning: `/faq`, and `search_faq` for the chat loop (`faq.toolEnabled`, `runFaqTool`). */
  faq: Faq;
  /**
   * Tool servers: the MCP client (`mcp.servers`, connecting in the background; `hub.settled()` once
   * each first attempt ended), the catalog `/tools` and /readyz show, and who may use them.
   */
  tools: { hub: McpHub; catalog: ToolCatalog; access: SettingsToolAccess };
  /** Translate and Summarize on a message (context menus, message shortcuts). */
  actions: MessageActions;
  close(): Promise<void>;
}

export interface AppOptions {
  log?: Logger;
  /** Where logs go when no logger is given: stdout for the service, stderr for the terminal chat. */
  logFd?: 1 | 2;
  /** Prefix of shared keys (store namespace and Redis coordination keys); tests use one per run. */
  namespace?: string;
  /** The rate limiter's clock (tests move it by hand). */
  limitsClock?: LimitsClock;
  /** The model the conversation service talks to (default: the QwenClient); core tests pass a fake. */
  model?: ModelPort;
  /** The service's clock (default: the system clock). */
  clock?: Clock;
  /** The tool servers `/tools` lists (default: the MCP client's). */
  toolCatalog?: ToolCatalog;
  /** MCP reconnect backoff and timers (tests). */
  mcp?: Partial<Omit<McpHubOptions, 'log'>>;
}

/** A model outside the catalogue: DashScope's paid tier. */
const DEFAULT_RATE = { rpm: 300, tpm: 300_000 };

/** Builds the platform-free part of the bot from a validated config: logger, store, Qwen client, service. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log =
    options.log ??
    createLogger({
      level: config.log.level,
      format: config.log.format,
      fd: options.logFd,
      secrets: [
        config.qwen.apiKey,
        config.discord.token,
        config.slack.botToken,
        config.slack.appToken,
        config.slack.signingSecret,
        ...secretsOf(config),
      ],
    });
  const namespace = options.namespace ?? 'qwenbot';
  const shared = /^rediss?:\/\//.test(config.store.url);
  // One connection for the store and the coordination (the turn line adds one for wake-ups).
  const redis = shared
    ? await openRedis(config.store.url, {
        instance: config.instanceId,
        log: log.child({ component: 'redis' }),
      })
    : undefined;
  const store = await createStore(config.store.url, {
    log: log.child({ component: 'store' }),
    namespace,
    redis,
  }).catch((err: unknown) => {
    redis?.destroy();
    throw err;
  });
  // Expired rows are deleted, not just hidden (SQLite): once now, then every store.sweepMinutes.
  const sweeper = await startRetention(store, { config, namespace, log: log.child({ component: 'store' }) });
  // Several instances share a Redis store; what they must agree on atomically goes through Redis too.
  const coordinator = redis
    ? await RedisCoordinator.connect({
        client: redis,
        prefix: `${namespace}:coord`,
        log: log.child({ component: 'redis' }),
        heartbeatMs: config.store.turnHeartbeatSec * 1000,
        turnTimeoutMs: config.store.turnTimeoutSec * 1000,
      })
    : new LocalCoordinator(store);
  const metrics = new Metrics();
  const limits = new ModelLimits({
    rate: (model) =>
      model === config.qwen.embeddingModel
        ? { rpm: config.qwen.embeddingRpm, tpm: config.qwen.embeddingTpm }
        : (config.models[model] ?? DEFAULT_RATE),
    maxQueue: config.qwen.queue.max,
    showAfterMs: config.qwen.queue.showAfterMs,
    clock: options.limitsClock,
    // With Redis every instance takes from the same counters: together they keep the account's rate.
    shared: coordinator.shared ? (name, points, sec) => coordinator.limiter(name, points, sec) : undefined,
    observer: metrics.limitsObserver(),
    log: log.child({ component: 'limits' }),
  });
  const qwen = new QwenClient({
    limits,
    apiKey: config.qwen.apiKey ?? '',
    baseUrl: config.qwen.baseUrl ?? '',
    firstTokenTimeoutMs: config.qwen.firstTokenTimeoutMs,
    totalTimeoutMs: config.qwen.totalTimeoutMs,
    retries: config.qwen.retries,
    retryBaseDelayMs: config.qwen.retryBaseDelayMs,
    embeddingModel: config.qwen.embeddingModel,
    embeddingDimensions: config.qwen.embeddingDimensions,
    embeddingConcurrency: config.qwen.embeddingConcurrency,
    log: log.child({ component: 'qwen' }),
  });
  // FAQ: a malformed file stops start-up (FaqFileError); indexing then runs in the background.
  let faq: Faq;
  try {
    faq = createFaq({ config, store, qwen, log });
  } catch (err) {
    await coordinator.close().catch(() => undefined);
    await sweeper.stop();
    await closeStore(store).catch(() => undefined);
    throw err;
  }
  const extraCommands = faqCommands({ faq, config, qwen });
  // MCP servers connect in the background: start-up never waits for them, answers go on without them.
  const hub = new McpHub(config.mcp.servers, { ...options.mcp, log: log.child({ component: 'mcp' }) });
  hub.start();
  const toolbox = new ToolRegistry({
    config,
    log: log.child({ component: 'tools' }),
    faq,
    hub,
    // The access policy reads the conversation settings, which the service below owns.
    access: { allowedServers: (scope, servers) => toolAccess.allowedServers(scope, servers) },
  });
  const service = new ConversationService({
    config,
    store,
    qwen: options.model ?? qwen,
    log,
    metrics,
    coordinator,
    ...(options.clock ? { clock: options.clock } : {}),
    extraCommands,
    toolbox,
    ...(config.documents.enabled ? { files: new QwenFiles(qwen.sdk) } : {}),
    transcriber: new QwenTranscriber(qwen, {
      model: config.voice.model,
      language: config.voice.language,
      retries: config.qwen.retries,
      retryBaseDelayMs: config.qwen.retryBaseDelayMs,
      // Transcribing holds the conversation's turn: its tries stay well inside store.turnTimeoutSec.
      timeoutMs: Math.min(config.qwen.firstTokenTimeoutMs, 30_000),
      log: log.child({ component: 'voice' }),
    }),
  });
  // Files at DashScope whose conversation expired, and deletions that failed, are deleted by this sweep.
  const docSweeper = service.documents
    ? startDocumentSweeper(service.documents, {
        intervalMs: config.store.sweepMinutes * 60_000,
        log: log.child({ component: 'documents' }),
      })
    : undefined;
  void docSweeper?.sweep();
  const toolCatalog = options.toolCatalog ?? hub;
  const toolAccess = new SettingsToolAccess({ servers: config.mcp.servers, settings: service.settings });
  service.registry.add(
    toolsCommand({
      catalog: toolCatalog,
      access: toolAccess,
      settings: service.settings,
      faqTool: () => faq.toolEnabled,
      now: () => (options.clock ?? systemClock).now(),
    }),
  );
  const actions = new MessageActions({
    config,
    model: { complete: (req) => completeChat(qwen, req), streamChat: (req) => qwen.streamChat(req) },
    usage: service.usage,
    guards: [
      ...standardGuards(config.guards, coordinator, service.spelling),
      dailyQuota(service.usage, config.usage),
    ],
    metrics,
    log,
  });
  return {
    config,
    log,
    store,
    qwen,
    service,
    actions,
    metrics,
    coordinator,
    faq,
    tools: { hub, catalog: toolCatalog, access: toolAccess },
    async close() {
      const finish = async () => {
        await service.queue.idle();
        await service.lanes.idle();
        await service.inflight.flush();
        docSweeper?.stop();
        await faq.close();
        await hub.close();
        await coordinator.close();
        await sweeper.stop();
      };
      // On Redis with a deadline: a silent Redis host would hold the writes still due for ever.
      if (redis) await closeRedis(redis, { work: finish, log: log.child({ component: 'redis' }) });
      else await finish();
      await closeStore(store, log).catch((err: unknown) => log.warn({ err }, 'store did not close cleanly'));
      log.flush?.();
    },
  };
}
