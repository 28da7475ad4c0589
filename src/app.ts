import type { Config } from './config/schema.ts';
import { ConversationService } from './core/conversation.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { QwenClient } from './qwen/client.ts';
import { createStore, type Store } from './store/index.ts';

export interface App {
  config: Config;
  log: Logger;
  store: Store;
  qwen: QwenClient;
  service: ConversationService;
  metrics: Metrics;
  close(): Promise<void>;
}

export interface AppOptions {
  log?: Logger;
  /** Where logs go when no logger is given: stdout for the service, stderr for the terminal chat. */
  logFd?: 1 | 2;
}

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
      ],
    });
  const store = await createStore(config.store.url, { log: log.child({ component: 'store' }) });
  const qwen = new QwenClient({
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
  const metrics = new Metrics();
  const service = new ConversationService({ config, store, qwen, log, metrics });
  return {
    config,
    log,
    store,
    qwen,
    service,
    metrics,
    async close() {
      await service.queue.idle();
      await store.disconnect().catch(() => undefined);
      log.flush?.();
    },
  };
}
