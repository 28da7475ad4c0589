/**
 * End-to-end wiring for Discord tests: DashScope simulator + the real ConversationService (createApp)
 * + the Discord adapter + the real discord.js client connected to the fake Discord. Records every
 * turn's outcome so tests wait for "the answer finished" instead of sleeping.
 */
import { type DiscordHandle, startDiscord } from '../../adapters/discord/index.ts';
import { type App, createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { ChatService, TurnOutcome } from '../../src/core/service.ts';
import type { CommandInvocation } from '../../src/core/types.ts';
import { createLogger } from '../../src/log.ts';
import type { LimitsClock } from '../../src/qwen/limits.ts';
import { type DashScopeSim, type SimOptions, startDashScopeSim } from '../support/dashscope-sim.ts';
import {
  type FakeChannel,
  type FakeDiscord,
  type FakeGuild,
  type FakeUser,
  type RecordedRequest,
  startFakeDiscord,
} from '../support/fake-discord/index.ts';
import { LogSink, UNPACED_MODELS, uniqueInstance } from '../support/harness.ts';

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
}

export async function startDiscordHarness(options: DiscordHarnessOptions = {}): Promise<DiscordHarness> {
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
      qwen: { retryBaseDelayMs: 5, firstTokenTimeoutMs: 5000, totalTimeoutMs: 20_000 },
      models: UNPACED_MODELS,
      ...options.config,
      discord: {
        guildIds: options.globalCommands ? [] : [guild.id],
        ...(options.config?.discord as Record<string, unknown> | undefined),
      },
    },
  });
  const logs = new LogSink();
  const log = createLogger({ level: 'debug', destination: logs, secrets: [API_KEY, fake.token] });
  const app = await createApp(config, {
    log,
    namespace: options.namespace,
    limitsClock: options.limitsClock,
  });
  const outcomes: TurnOutcome[] = [];
  const invocations: CommandInvocation[] = [];
  let waiters: Array<() => void> = [];
  const real = app.service;
  // The adapter only sees the ChatService interface; this one records outcomes on the way through.
  const service: ChatService = {
    async handleMessage(message, surface) {
      const outcome = await real.handleMessage(message, surface);
      outcomes.push(outcome);
      const w = waiters;
      waiters = [];
      for (const f of w) f();
      return outcome;
    },
    runCommand: (inv) => {
      invocations.push(inv);
      return real.runCommand(inv);
    },
    commands: () => real.commands(),
    autocomplete: (c, o, p, conv) => real.autocomplete(c, o, p, conv),
    stop: (id, by) => real.stop(id, by),
  };
  const discord = await startDiscord({ config, service, log });
  await discord.whenReady;

  async function turns(n: number, timeoutMs = 15_000): Promise<TurnOutcome[]> {
    const deadline = Date.now() + timeoutMs;
    while (outcomes.length < n) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${n} turns (have ${outcomes.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return outcomes.slice(0, n);
  }

  return {
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
    async close() {
      await discord.stop();
      await app.close();
      await fake.close();
      await sim.close();
    },
  };
}
