import { z } from 'zod';
import { summarizeSchema, translateSchema } from './actions-schema.ts';
import { DOCUMENTS_DEFAULTS, documentsSchema } from './documents-schema.ts';
import { faqSchema } from './faq-schema.ts';
import { mcpSchema, toolsSchema } from './mcp-schema.ts';
import { modelName } from './model-name.ts';
import { voiceSchema } from './voice-schema.ts';

export const REGIONS = {
  beijing: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
  singapore: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
  us: 'https://dashscope-us.aliyuncs.com/compatible-mode/v1',
  hongkong: 'https://cn-hongkong.dashscope.aliyuncs.com/compatible-mode/v1',
  finance: 'https://dashscope-finance.aliyuncs.com/compatible-mode/v1',
} as const;

export type Region = keyof typeof REGIONS;

const idList = z.array(z.coerce.string()).default([]);

/** Slack's assistant view: suggested prompts on a new assistant thread, and its title. */
const slackAssistantSchema = z.strictObject({
  /** Suggested prompts (Slack shows at most 4); empty: FAQ topics. `locale` limits one to that language. */
  prompts: z
    .array(
      z.strictObject({
        title: z.string().trim().min(1).max(75),
        message: z.string().trim().min(1).max(2000),
        locale: z.enum(['en', 'zh']).optional(),
      }),
    )
    .default([]),
  /** A short title for the thread after its first answer, written by this (cheap) model. */
  titleModel: modelName.default('qwen-flash'),
  titles: z.boolean().default(true),
  /**
   * Which of Slack's surfaces the app's manifest declares: `assistant` (`assistant_view`, threads started
   * by `assistant_thread_started`) or `agent` (`agent_view`, Slack's newer agent messaging: prompts are
   * set when the person opens the app's Messages tab).
   */
  view: z.enum(['assistant', 'agent']).default('assistant'),
});
const SLACK_ASSISTANT_DEFAULTS = {
  prompts: [],
  titleModel: 'qwen-flash',
  titles: true,
  view: 'assistant' as const,
};

export const modelInfoSchema = z.strictObject({
  context: z.number().int().positive(),
  maxOutput: z.number().int().positive(),
  vision: z.boolean().default(false),
  thinking: z.boolean().default(false),
  thinkingOnly: z.boolean().default(false),
  search: z.boolean().default(false),
  tools: z.boolean().default(false),
  /** A machine-translation model (qwen-mt): used by Translate only, never offered for chat. */
  translation: z.boolean().default(false),
  priceIn: z.number().nonnegative().default(0),
  priceOut: z.number().nonnegative().default(0),
  /** Input tokens served from the implicit context cache; unset: 20 % of priceIn (core/usage.ts). */
  priceCached: z.number().nonnegative().optional(),
  /**
   * `explicit`: the prompt's stable prefix carries DashScope's `cache_control` markers (models that offer
   * the explicit context cache); `implicit`: no markers, DashScope's automatic cache only.
   */
  cache: z.enum(['implicit', 'explicit']).default('implicit'),
  /** Account-wide requests per minute for this model (DashScope's paid tier: 300); also paced per second. */
  rpm: z.number().int().positive().default(300),
  /** Account-wide tokens (input + output) per minute for this model (paid tier: 300,000). */
  tpm: z.number().int().positive().default(300_000),
  /** Models (ids of this catalogue) tried in order when this one answers 429 or 5xx before its first token. */
  fallback: z.array(modelName).default([]),
});

export type ModelInfo = z.infer<typeof modelInfoSchema>;

export const configSchema = z
  .strictObject({
    locale: z.enum(['en', 'zh']).default('en'),
    botName: z.string().min(1).max(80).default('Qwen'),
    instanceId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash or underscore (at most 64)')
      .default('default'),
    qwen: z.strictObject({
      region: z.enum(Object.keys(REGIONS) as [Region, ...Region[]]).default('beijing'),
      baseUrl: z.url().optional(),
      apiKey: z.string().optional(),
      defaultModel: modelName.default('qwen-plus'),
      visionModel: modelName.default('qwen-vl-max'),
      embeddingModel: z.string().min(1).default('text-embedding-v4'),
      embeddingDimensions: z.number().int().positive().default(1024),
      embeddingConcurrency: z.number().int().min(1).max(32).default(4),
      /** The account's limits for the embedding model (it is not in the chat catalogue). */
      embeddingRpm: z.number().int().positive().default(300),
      embeddingTpm: z.number().int().positive().default(300_000),
      firstTokenTimeoutMs: z.number().int().min(100).default(60_000),
      totalTimeoutMs: z.number().int().min(100).default(300_000),
      retries: z.number().int().min(0).max(10).default(2),
      retryBaseDelayMs: z.number().int().min(0).default(1000),
      maxOutputTokens: z.number().int().positive().default(4096),
      temperature: z.number().min(0).max(2).nullish(),
      verifyModelSwitch: z.boolean().default(true),
      /** `thinking_budget` (tokens) for `/thinking low` and `/thinking high`; `max` sends none (the model's maximum). */
      thinkingBudgets: z
        .strictObject({
          low: z.number().int().positive().default(1024),
          high: z.number().int().positive().default(8192),
        })
        .default({ low: 1024, high: 8192 }),
      queue: z
        .strictObject({
          /** Model calls that may wait for rate capacity in this process; beyond it the user gets the busy line. */
          max: z.number().int().min(0).default(200),
          /** An answer that has waited this long shows "⏳ queued — n ahead" in its placeholder. */
          showAfterMs: z.number().int().min(0).default(1000),
        })
        .default({ max: 200, showAfterMs: 1000 }),
    }),
    models: z
      .record(modelName, modelInfoSchema)
      .refine((m) => Object.keys(m).length > 0, 'at least one model')
      .superRefine((m, ctx) => {
        for (const [id, info] of Object.entries(m)) {
          for (const [i, other] of info.fallback.entries()) {
            if (!m[other] || other === id)
              ctx.addIssue({
                code: 'custom',
                path: [id, 'fallback', i],
                message: other === id ? 'a model cannot fall back to itself' : `${other} is not in models`,
              });
          }
        }
      }),
    systemPrompt: z.string().max(20_000).default(''),
    history: z.strictObject({
      maxTurns: z.number().int().min(2).max(10_000).default(100),
      retentionDays: z.number().positive().default(30),
      maxPromptTokens: z.number().int().min(256).default(32_000),
    }),
    guards: z.strictObject({
      allowChannels: idList,
      allowUsers: idList,
      denyChannels: idList,
      denyUsers: idList,
      admins: idList,
      userMessagesPerWindow: z.number().int().min(1).default(10),
      userWindowSeconds: z.number().int().min(1).default(60),
      dedupeSeconds: z.number().int().min(1).default(600),
      maxMessageChars: z.number().int().min(1).default(20_000),
    }),
    attachments: z
      .strictObject({
        maxImageBytes: z
          .number()
          .int()
          .min(1)
          .max(10 * 1024 * 1024)
          .default(10 * 1024 * 1024),
        maxImages: z.number().int().min(0).max(10).default(4),
        maxTextFileBytes: z.number().int().min(0).default(100_000),
        maxTurnChars: z.number().int().min(0).default(100_000),
        downloadTimeoutMs: z.number().int().min(1).default(30_000),
      })
      .default({
        maxImageBytes: 10 * 1024 * 1024,
        maxImages: 4,
        maxTextFileBytes: 100_000,
        maxTurnChars: 100_000,
        downloadTimeoutMs: 30_000,
      }),
    documents: documentsSchema.default(DOCUMENTS_DEFAULTS),
    voice: voiceSchema,
    streaming: z.strictObject({
      placeholder: z.string().min(1).max(200).default('…'),
      minEditIntervalMs: z.number().int().min(0).default(1000),
      /** `spoiler`: after the answer, the end of the reasoning behind a spoiler where the platform has one. */
      reasoning: z.enum(['hide', 'quote', 'spoiler']).default('hide'),
      /** After a thinking answer, a small line saying how long the model thought ("thought for 12 s"). */
      showThinkingTime: z.boolean().default(true),
    }),
    triggers: z
      .strictObject({
        /** Messages one person sends in one conversation within this window (ms) become one turn; 0: off. */
        debounceMs: z.number().int().min(0).max(60_000).default(1500),
      })
      .default({ debounceMs: 1500 }),
    usage: z
      .strictObject({
        dailyTokenQuotaPerUser: z.number().int().min(0).default(0),
        totalsRetentionDays: z.number().positive().default(400),
      })
      .default({ dailyTokenQuotaPerUser: 0, totalsRetentionDays: 400 }),
    feedback: z
      .strictObject({
        /** 👍 / 👎 buttons on every finished answer (Discord buttons, Slack feedback buttons). */
        enabled: z.boolean().default(true),
        /** A 👎 opens a one-line form asking what went wrong (optional for the person). */
        askReason: z.boolean().default(true),
      })
      .default({ enabled: true, askReason: true }),
    faq: faqSchema,
    translate: translateSchema,
    summarize: summarizeSchema,
    mcp: mcpSchema,
    tools: toolsSchema,
    store: z.strictObject({
      url: z.string().min(1).default('sqlite://data/qwenbot.sqlite'),
      sweepMinutes: z.number().min(0).default(60),
      settingsRetentionDays: z.number().positive().default(365),
      turnTimeoutSec: z.number().positive().max(3600).default(120),
      turnHeartbeatSec: z.number().min(0.05).max(600).default(15),
    }),
    http: z.strictObject({ port: z.number().int().min(0).max(65_535).default(3000) }),
    shutdown: z
      .strictObject({ graceSeconds: z.number().min(0).max(600).default(20) })
      .default({ graceSeconds: 20 }),
    platforms: z
      .strictObject({ connectTimeoutSeconds: z.number().min(0.05).max(3600).default(60) })
      .default({ connectTimeoutSeconds: 60 }),
    log: z.strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    }),
    discord: z
      .strictObject({
        token: z.string().optional(),
        apiUrl: z.url().optional(),
        /** Register slash commands in these guilds only (applies at once; for development). Empty: global. */
        guildIds: idList,
        /** Discord permission that makes a member an admin for admin-only commands and Stop. */
        adminPermission: z
          .string()
          .regex(/^[A-Z][A-Za-z]+$/, 'a discord.js permission name such as ManageGuild')
          .default('ManageGuild'),
        /**
         * Ask for the privileged Message Content intent (enable it in the developer portal too). Needed only
         * for role mentions and for replies that do not ping the bot; mentions and DMs work without it.
         */
        messageContentIntent: z.boolean().default(false),
        /** Role ids whose mention also addresses the bot (e.g. its managed role). Empty: only user mentions. */
        mentionRoleIds: idList,
        /**
         * DM channels kept in discord.js's cache (the most recently used): one is created for every
         * person who writes to the bot, and discord.js has no limit of its own for them.
         */
        cachedDmChannels: z.number().int().min(1).default(1000),
        /** Largest attachment the bot downloads, in bytes. */
        maxAttachmentBytes: z
          .number()
          .int()
          .positive()
          .default(10 * 1024 * 1024),
        /**
         * Gateway shards this process runs: null (one shard), "auto" (Discord's recommendation, all in
         * this process), or a list of shard ids out of `shardCount` (several processes on one Redis).
         */
        shards: z
          .union([z.literal('auto'), z.array(z.number().int().min(0)).min(1)])
          .nullable()
          .default(null),
        shardCount: z.number().int().min(1).nullable().default(null),
      })
      .superRefine((d, ctx) => {
        if (Array.isArray(d.shards) && !d.shardCount) {
          ctx.addIssue({
            code: 'custom',
            path: ['shardCount'],
            message: 'is required when shards lists shard ids',
          });
        }
        if (Array.isArray(d.shards) && d.shardCount && d.shards.some((id) => id >= (d.shardCount ?? 0))) {
          ctx.addIssue({
            code: 'custom',
            path: ['shards'],
            message: `shard ids must be below shardCount (${d.shardCount})`,
          });
        }
      })
      .default({
        shards: null,
        shardCount: null,
        guildIds: [],
        adminPermission: 'ManageGuild',
        messageContentIntent: false,
        mentionRoleIds: [],
        cachedDmChannels: 1000,
        maxAttachmentBytes: 10 * 1024 * 1024,
      }),
    slack: z
      .strictObject({
        botToken: z.string().optional(),
        signingSecret: z.string().optional(),
        appToken: z.string().optional(),
        apiUrl: z.url().optional(),
        followThreads: z.boolean().default(true),
        keepTiers: z.boolean().default(true),
        assistant: slackAssistantSchema.default(SLACK_ASSISTANT_DEFAULTS),
      })
      .default({ followThreads: true, keepTiers: true, assistant: SLACK_ASSISTANT_DEFAULTS }),
  })
  .superRefine((cfg, ctx) => {
    // Instances on one Redis keep their in-flight answers under their own name: two sharing "default"
    // would each "repair" the other's live answers on every restart.
    if (/^rediss?:\/\//.test(cfg.store.url) && cfg.instanceId === 'default') {
      ctx.addIssue({
        code: 'custom',
        path: ['instanceId'],
        message:
          'must be set to a stable name unique to this instance (e.g. the pod or host name) when the store is shared (redis://)',
      });
    }
    for (const key of ['defaultModel', 'visionModel'] as const) {
      const name = cfg.qwen[key];
      if (!cfg.models[name]) {
        ctx.addIssue({
          code: 'custom',
          path: ['qwen', key],
          message: `"${name}" is not in models (known: ${Object.keys(cfg.models).join(', ')})`,
        });
      }
    }
    // Translate needs a qwen-mt model; a summary needs a chat model (qwen-mt takes no system prompt).
    for (const [key, translation] of [
      ['translate', true],
      ['summarize', false],
    ] as const) {
      const name = cfg[key].model;
      const info = cfg.models[name];
      const problem = !info
        ? `"${name}" is not in models`
        : info.translation !== translation
          ? `"${name}" must be a ${translation ? 'translation model (translation: true, e.g. qwen-mt-turbo)' : 'chat model, not a translation model'}`
          : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: [key, 'model'], message: problem });
    }
    const { titleModel, titles } = cfg.slack.assistant;
    if (titles && !cfg.models[titleModel]) {
      ctx.addIssue({
        code: 'custom',
        path: ['slack', 'assistant', 'titleModel'],
        message: `"${titleModel}" is not in models (known: ${Object.keys(cfg.models).join(', ')})`,
      });
    }
    if (cfg.documents.enabled && !cfg.models[cfg.documents.model]) {
      ctx.addIssue({
        code: 'custom',
        path: ['documents', 'model'],
        message: `"${cfg.documents.model}" is not in models (known: ${Object.keys(cfg.models).join(', ')})`,
      });
    }
    const vision = cfg.models[cfg.qwen.visionModel];
    if (vision && !vision.vision) {
      ctx.addIssue({
        code: 'custom',
        path: ['qwen', 'visionModel'],
        message: 'must name a model with vision: true',
      });
    }
  });

export type Config = z.infer<typeof configSchema>;
