import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Usage } from './qwen/client.ts';
import type { LimitsObserver } from './qwen/limits.ts';

export interface AnswerObservation {
  platform: string;
  model: string;
  receivedAt: number;
  firstVisibleAt: number | null;
  now: number;
  errorCode?: string;
  usage?: Usage | null;
  cost: number;
  /** What the context cache saved on this answer (CNY; negative while a fresh write is unread). */
  cacheSaving?: number;
}

/** What the bot counts, exposed at /metrics in Prometheus format. One registry per app instance. */
export class Metrics {
  readonly registry = new Registry();
  readonly messages = new Counter({
    name: 'qwenbot_messages_total',
    help: 'Incoming messages by platform and outcome (answered, error, stopped, command, ignored, refused)',
    labelNames: ['platform', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly firstVisible = new Histogram({
    name: 'qwenbot_first_visible_seconds',
    help: 'Time from receiving a message to the first visible answer text',
    labelNames: ['platform'] as const,
    buckets: [0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60],
    registers: [this.registry],
  });
  readonly completion = new Histogram({
    name: 'qwenbot_answer_seconds',
    help: 'Time from receiving a message to the final edit of its answer',
    labelNames: ['platform'] as const,
    buckets: [0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320],
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'qwenbot_tokens_total',
    help: 'Tokens by model and kind (prompt, completion, reasoning; cached and cache_write are part of prompt)',
    labelNames: ['model', 'kind'] as const,
    registers: [this.registry],
  });
  readonly cost = new Counter({
    name: 'qwenbot_cost_estimate_total',
    help: 'Estimated cost from catalogue prices (CNY)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  /** A Gauge, not a Counter: an unread explicit-cache write makes an answer's saving negative. */
  readonly cacheSaving = new Gauge({
    name: 'qwenbot_cache_saving_estimate',
    help: 'Running total of what the context cache saved against the full input price (CNY, catalogue prices)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly qwenErrors = new Counter({
    name: 'qwenbot_qwen_errors_total',
    help: 'Model call failures by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly platformRateLimits = new Counter({
    name: 'qwenbot_platform_rate_limits_total',
    help: 'Rate-limit (429) answers received from a chat platform',
    labelNames: ['platform'] as const,
    registers: [this.registry],
  });
  readonly activeStreams = new Gauge({
    name: 'qwenbot_active_streams',
    help: 'Answers streaming right now',
    registers: [this.registry],
  });
  readonly slashCommands = new Counter({
    name: 'qwenbot_slash_commands_total',
    help: 'Slash commands (Discord and Slack) by platform, command and outcome (ok, refused, error)',
    labelNames: ['platform', 'command', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly feedback = new Counter({
    name: 'qwenbot_feedback_total',
    help: 'Feedback votes cast or changed on answers, by platform, model and vote (up, down)',
    labelNames: ['platform', 'model', 'vote'] as const,
    registers: [this.registry],
  });
  readonly messageActions = new Counter({
    name: 'qwenbot_message_actions_total',
    help: 'Translate / Summarize on a message, by platform, action and outcome (ok, empty, too_long, refused, error)',
    labelNames: ['platform', 'action', 'outcome'] as const,
    registers: [this.registry],
  });
  /** Read when scraped, so it is never stale (set by `watchQueue`). */
  private queueSize: () => number = () => 0;
  readonly queueDepth: Gauge = new Gauge({
    name: 'qwenbot_queue_depth',
    help: 'Messages waiting or running in per-conversation queues',
    registers: [this.registry],
    collect: (): void => this.queueDepth.set(this.queueSize()),
  });

  readonly rateQueueLength = new Gauge({
    name: 'qwenbot_rate_queue_length',
    help: 'Model calls waiting for the account rate (models.<id>.rpm / tpm), per model',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly rateQueueWait = new Histogram({
    name: 'qwenbot_rate_queue_wait_seconds',
    help: 'Time a model call waited for the account rate before it was sent',
    labelNames: ['model'] as const,
    buckets: [0.01, 0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
    registers: [this.registry],
  });

  constructor() {
    // The process's own health (CPU, memory, event-loop lag, handles), with prom-client's standard names.
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where `qwenbot_queue_depth` reads its value from at each scrape. */
  watchQueue(size: () => number): void {
    this.queueSize = size;
  }

  /** Feeds the rate queue's length and waits into the metrics. */
  limitsObserver(): LimitsObserver {
    return {
      queueLength: (model, waiting) => this.rateQueueLength.set({ model }, waiting),
      waited: (model, seconds) => this.rateQueueWait.observe({ model }, seconds),
    };
  }

  /** Tokens and cost of a Translate or Summarize call (the answers' counters: they are model calls too). */
  observeAction(o: { platform: string; model: string; usage: Usage; cost: number }): void {
    this.tokens.inc({ model: o.model, kind: 'prompt' }, o.usage.promptTokens);
    this.tokens.inc({ model: o.model, kind: 'completion' }, o.usage.completionTokens);
    this.cost.inc({ model: o.model }, o.cost);
  }

  /** Everything one finished answer contributes. */
  observeAnswer(o: AnswerObservation): void {
    const { platform, model } = o;
    this.activeStreams.dec();
    if (o.firstVisibleAt !== null)
      this.firstVisible.observe({ platform }, (o.firstVisibleAt - o.receivedAt) / 1000);
    this.completion.observe({ platform }, (o.now - o.receivedAt) / 1000);
    if (o.errorCode) this.qwenErrors.inc({ code: o.errorCode });
    if (o.usage) {
      this.tokens.inc({ model, kind: 'prompt' }, o.usage.promptTokens);
      this.tokens.inc({ model, kind: 'completion' }, o.usage.completionTokens);
      this.tokens.inc({ model, kind: 'reasoning' }, o.usage.reasoningTokens);
      this.tokens.inc({ model, kind: 'cached' }, o.usage.cachedTokens);
      this.tokens.inc({ model, kind: 'cache_write' }, o.usage.cacheCreationTokens ?? 0);
      this.cost.inc({ model }, o.cost);
      if (o.cacheSaving) this.cacheSaving.inc({ model }, o.cacheSaving);
    }
  }
}
