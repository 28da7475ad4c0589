/**
 * End-to-end wiring for Discord tests: DashScope simulator + the real ConversationService (createApp)
 * + the Discord adapter + the real discord.js client connected to the fake Discord. Records every
 * turn's outcome so tests wait for "the answer finished" instead of sleeping.
 *
 * Time is fake by default (test/support/fake-time.ts): every wait of the harness advances it, so the
 * platform's 1 s edit floor and 5-per-5-s channel budget are kept, and tests about pacing keep their
 * meaning, without costing real seconds. `clock: 'real'` is for the few tests of real-time pacing.
 */
import { type DiscordHandle, type DiscordPacing, startDiscord } from '../../adapters/discord/index.ts';
import { type App, createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { ChatService, TurnOutcome } from '../../src/core/service.ts';
import type { CommandInvocation } from '../../src/core/types.ts';
import { createLogger } from '../../src/log.ts';
import type { LimitsClock } from '../../src/qwen/limits.ts';
import type { ToolCatalog } from '../../src/tools/types.ts';
import { type DashScopeSim, type SimOptions, startDashScopeSim } from '../support/dashscope-sim.ts';
import {
  type FakeChannel,
  type FakeDiscord,
  type FakeGuild,
  type FakeUser,
  type RecordedRequest,
  startFakeDiscord,
} from '../support/fake-discord/index.ts';
import { settle, useFakeClock, useRealClock, type What } from '../support/fake-time.ts';
import { LogSink, testQwen, UNPACED_MODELS, uniqueInstance } from '../support/harness.ts';

const API_KEY = 'sk-test-discord-0123456789';

export interface DiscordHarness {
  sim: DashScopeSim;
  fake: FakeDiscord;
  app: App;
  config: Config;
  discord: DiscordHandle;
  guild: FakeGuild;
  general: FakeChannel;
  random: FakeChannel;
  alice: FakeUser;
  bob: FakeUser;
  mod: FakeUser;
  outcomes: TurnOutcome[];
  logs: LogSink;
  /** Resolves when `n` messages in total have been handled (answered, refused, ignored…). */
  turns(n: number, timeoutMs?: number): Promise<TurnOutcome[]>;
  /** Call before acting: resolves with the next `n` outcomes. */
  expectTurns(n: number, timeoutMs?: number): Promise<TurnOutcome[]>;
  /** Every command invocation the adapter made, as the service received it. */
  invocations: CommandInvocation[];
  /** PATCH requests that edited this message, in order. */
  editsOf(channelId: string, messageId: string): RecordedRequest[];
  /** `<@botId> text`. */
  mention(text: string): string;
  /** Awaits `promise`, advancing fake time meanwhile (see test/support/fake-time.ts). */
  settle<T>(promise: Promise<T>, what: What, deadlineMs?: number): Promise<T>;
  /**
   * Stops the bot (adapter and app) and starts it again on the same fake Discord, simulator, config and
   * store; `app` and `discord` are the new ones afterwards. With the in-memory store nothing survives.
   */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface DiscordHarnessOptions {
  sim?: SimOptions;
  config?: Record<string, unknown>;
  /** Register commands globally instead of in the test guild. */
  globalCommands?: boolean;
  /** Store URL (default: in-memory SQLite) and its namespace / Redis key prefix. */
  storeUrl?: string;
  namespace?: string;
  /** The rate limiter's clock (a ManualClock moves it by hand). */
  limitsClock?: LimitsClock;
  /** Adjust the fake (more guilds, shard recommendation…) before the bot connects. */
  prepare?: (fake: FakeDiscord, people: { alice: FakeUser; bob: FakeUser; mod: FakeUser }) => void;
  /** 'fake' (default): fake timers and Date from start to close. 'real': real time, for pacing itself. */
  clock?: 'fake' | 'real';
  /** Channel pacing other than Discord's (passed to startDiscord; production never changes it). */
  pacing?: Partial<DiscordPacing>;
  /** The tool servers `/tools` lists (createApp's `toolCatalog`). */
  tools?: ToolCatalog;
}

export async function startDiscordHarness(options: DiscordHarnessOptions = {}): Promise<DiscordHarness> {
  const fakeClock = (options.clock ?? 'fake') === 'fake';
  if (fakeClock) useFakeClock();
  try {
    return await settle(buildHarness(options, fakeClock), 'the Discord harness to start');
  } catch (err) {
    if (fakeClock) useRealClock();
    throw err;
  }
}

async function buildHarness(options: DiscordHarnessOptions, fakeClock: boolean): Promise<DiscordHarness> {
  const sim = await startDashScopeSim({ apiKey: API_KEY, ...options.sim });
  const fake = await startFakeDiscord('fake.discord.bot-token');
  const guild = fake.addGuild('Test Server');
  const general = fake.addChannel(guild, 'general');
  const random = fake.addChannel(guild, 'random');
  const alice = fake.addUser('alice', 'Alice');
  const bob = fake.addUser('bob', 'Bob');
  const mod = fake.addUser('mod', 'Moderator');
  fake.addMember(guild, alice);
  fake.addMember(guild, bob, { nick: 'Bobby' });
  fake.addMember(guild, mod, { admin: true });
  options.prepare?.(fake, { alice, bob, mod });

  const config = loadConfig({
    file: null,
    env: {
      DASHSCOPE_API_KEY: API_KEY,
      DASHSCOPE_BASE_URL: sim.baseUrl,
      QWENBOT_STORE: options.storeUrl ?? 'sqlite://:memory:',
      ...(options.storeUrl?.startsWith('redis') ? { QWENBOT_INSTANCE: uniqueInstance() } : {}),
      DISCORD_TOKEN: fake.token,
      DISCORD_API_URL: fake.apiUrl,
      LOG_LEVEL: 'debug',
    },
    overrides: {
      qwen: testQwen(20_000),
      models: UNPACED_MODELS,
      // Each message answered at once: tests of debouncing set their own window.
      triggers: { debounceMs: 0 },
      ...options.config,
      discord: {
        guildIds: options.globalCommands ? [] : [guild.id],
        ...(options.config?.discord as Record<string, unknown> | undefined),
      },
    },
  });
  const logs = new LogSink();
  const log = createLogger({ level: 'debug', destination: logs, secrets: [API_KEY, fake.token] });
  const openApp = () =>
    createApp(config, {
      log,
      namespace: options.namespace,
      limitsClock: options.limitsClock,
      ...(options.tools ? { toolCatalog: options.tools } : {}),
    });
  let app = await openApp();
  const outcomes: TurnOutcome[] = [];
  const invocations: CommandInvocation[] = [];
  let waiters: Array<() => void> = [];
  const changed = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  let real = app.service;
  // The adapter only sees the ChatService interface; this one records outcomes on the way through.
  const service: ChatService = {
    async handleMessage(message, surface) {
      const outcome = await real.handleMessage(message, surface);
      outcomes.push(outcome);
      changed();
      return outcome;
    },
    runCommand: (inv) => {
      invocations.push(inv);
      return real.runCommand(inv);
    },
    commands: () => real.commands(),
    answersEveryMessage: (ref) => real.answersEveryMessage(ref),
    spellCommandsAs: (platform, speller) => real.spellCommandsAs(platform, speller),
    autocomplete: (c, o, p, conv) => real.autocomplete(c, o, p, conv),
    stop: (id, by) => real.stop(id, by),
    feedback: real.feedback,
  };
  const connect = async () => {
    const started = await startDiscord({
      config,
      service,
      log,
      metrics: app.metrics,
      actions: app.actions,
      pacing: options.pacing,
    });
    await started.whenReady;
    return started;
  };
  let discord = await connect();

  async function turns(n: number, timeoutMs = 15_000): Promise<TurnOutcome[]> {
    const enough = new Promise<void>((resolve) => {
      const check = () => (outcomes.length >= n ? resolve() : waiters.push(check));
      check();
    });
    await settle(enough, () => `${n} turns (have ${outcomes.length})`, timeoutMs);
    return outcomes.slice(0, n);
  }

  const harness: DiscordHarness = {
    sim,
    fake,
    app,
    config,
    discord,
    guild,
    general,
    random,
    alice,
    bob,
    mod,
    outcomes,
    logs,
    mention: (text) => `<@${fake.bot.id}> ${text}`,
    invocations,
    editsOf: (channelId, messageId) =>
      fake.state.requests.filter(
        (r) =>
          r.method === 'PATCH' &&
          r.path === `/channels/${channelId}/messages/${messageId}` &&
          r.status === 200,
      ),
    async expectTurns(n, timeoutMs) {
      const from = outcomes.length;
      const all = await turns(from + n, timeoutMs);
      return all.slice(from);
    },
    turns,
    settle,
    async restart() {
      const restarted = async () => {
        await discord.stop();
        await app.close();
        app = await openApp();
        real = app.service;
        discord = await connect();
      };
      await settle(restarted(), 'the bot to restart');
      harness.app = app;
      harness.discord = discord;
    },
    async close() {
      try {
        await settle(
          (async () => {
            await discord.stop();
            await app.close();
            await fake.close();
            await sim.close();
          })(),
          'the Discord harness to close',
        );
      } finally {
        if (fakeClock) useRealClock();
      }
    },
  };
  return harness;
}
