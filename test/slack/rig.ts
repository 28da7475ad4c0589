/**
 * End-to-end rig: fake Slack + DashScope simulator + the real bot (config, store, openai SDK,
 * ConversationService) + the Slack adapter on real Bolt, in HTTP mode (mounted on a plain HTTP server,
 * as main does) or Socket Mode.
 *
 * Time is fake by default (test/support/fake-time.ts): every wait of the rig advances it, so Slack's
 * pacing (1.2 s between updates, 1 s between appends and posts) is kept without costing real seconds.
 * `clock: 'real'` is for the few tests of real-time pacing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type SlackHandle, type SlackPacing, startSlack } from '../../adapters/slack/index.ts';
import { type App, createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createTitleWriter } from '../../src/core/thread-title.ts';
import { createLogger } from '../../src/log.ts';
import type { LimitsClock } from '../../src/qwen/limits.ts';
import type { ToolCatalog } from '../../src/tools/types.ts';
import { type DashScopeSim, type SimOptions, startDashScopeSim } from '../support/dashscope-sim.ts';
import {
  FakeSlack,
  type FakeSlackOptions,
  type Said,
  type SayOptions,
  SignedSender,
  say,
} from '../support/fake-slack/index.ts';

export const API_KEY = 'sk-test-0123456789abcdef';
export const SIGNING_SECRET = 'fake-signing-secret-0123456789';
export const ALICE = 'U0ALICE';
export const BOB = 'U0BOB';
export const ADMIN = 'U0ADMIN';

import { settle, useFakeClock, useRealClock, type What } from '../support/fake-time.ts';
import { LogSink, testQwen, UNPACED_MODELS } from '../support/harness.ts';

export { LogSink };

export interface RigOptions {
  mode?: 'http' | 'socket';
  sim?: SimOptions;
  fake?: FakeSlackOptions;
  config?: Record<string, unknown>;
  storeUrl?: string;
  /** The rate limiter's clock (a ManualClock moves it by hand). */
  limitsClock?: LimitsClock;
  /** Share a fake Slack / simulator with another rig (a restart); this rig then leaves them open. */
  reuse?: { fake: FakeSlack; sim: DashScopeSim };
  /** 'fake' (default): fake timers and Date from start to close. 'real': real time, for pacing itself. */
  clock?: 'fake' | 'real';
  /** Pacing other than Slack's (passed to startSlack; production never changes it). */
  pacing?: Partial<SlackPacing>;
  /** The tool servers `/tools` lists (createApp's `toolCatalog`). */
  tools?: ToolCatalog;
}

export interface Rig {
  fake: FakeSlack;
  sim: DashScopeSim;
  app: App;
  slack: SlackHandle;
  /** Signed requests to the bot's /slack/events (HTTP mode). */
  send: SignedSender;
  logs: LogSink;
  /** A person writes; returns the message and the events Slack will deliver for it. */
  say(o: Omit<SayOptions, 'user'> & { user?: string }): Said;
  /**
   * Delivers every event of a message (HTTP or Socket Mode) and waits until the bot is done with them,
   * for at most `deadlineMs` (30 s; fake time unless the rig runs on real time).
   */
  deliver(said: Said, deadlineMs?: number): Promise<void>;
  /** Awaits `promise`, advancing fake time meanwhile (see test/support/fake-time.ts). */
  settle<T>(promise: Promise<T>, what: What, deadlineMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const fakeClock = (options.clock ?? 'fake') === 'fake';
  if (fakeClock) useFakeClock();
  try {
    return await settle(buildRig(options, fakeClock), 'the Slack rig to start');
  } catch (err) {
    if (fakeClock) useRealClock();
    throw err;
  }
}

async function buildRig(options: RigOptions, fakeClock: boolean): Promise<Rig> {
  const mode = options.mode ?? 'http';
  const fake =
    options.reuse?.fake ??
    (await FakeSlack.start({
      users: [
        { id: ALICE, name: 'alice', displayName: 'Alice', locale: 'en-US' },
        { id: BOB, name: 'bob', displayName: 'Bob', locale: 'en-US' },
        { id: ADMIN, name: 'admin', displayName: 'Ada', isAdmin: true, locale: 'en-US' },
      ],
      ...options.fake,
    }));
  const sim = options.reuse?.sim ?? (await startDashScopeSim({ apiKey: API_KEY, ...options.sim }));
  const config = loadConfig({
    env: {
      DASHSCOPE_API_KEY: API_KEY,
      DASHSCOPE_BASE_URL: sim.baseUrl,
      QWENBOT_STORE: options.storeUrl ?? 'sqlite://:memory:',
      LOG_LEVEL: 'debug',
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      ...(mode === 'socket' ? { SLACK_APP_TOKEN: fake.appToken } : {}),
    },
    overrides: {
      qwen: testQwen(20_000),
      streaming: { minEditIntervalMs: 0 },
      models: UNPACED_MODELS,
      // Each message answered at once: tests of debouncing set their own window.
      triggers: { debounceMs: 0 },
      ...options.config,
    },
  });
  const logs = new LogSink();
  const log = createLogger({ level: 'debug', destination: logs, secrets: [API_KEY, fake.botToken] });
  const app = await createApp(config, {
    log,
    limitsClock: options.limitsClock,
    ...(options.tools ? { toolCatalog: options.tools } : {}),
  });
  const slack = await startSlack({
    config,
    service: app.service,
    log,
    store: app.store,
    metrics: app.metrics,
    actions: app.actions,
    faqQuestions: () => app.faq.entries.map((entry) => entry.question),
    writeTitle: createTitleWriter(app.qwen, config.slack.assistant.titleModel),
    ...(options.pacing ? { pacing: options.pacing } : {}),
  });
  let server: Server | undefined;
  let send = new SignedSender('http://127.0.0.1:1/unused', SIGNING_SECRET);
  if (slack.handleHttp) {
    const handle = slack.handleHttp;
    // What main does: one HTTP server, the Slack handler first, everything else after it.
    server = createServer((req, res) => {
      if (!handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    send = new SignedSender(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`,
      SIGNING_SECRET,
    );
  }
  return {
    fake,
    sim,
    app,
    slack,
    send,
    logs,
    say: (o) => say(fake, { user: ALICE, ...o }),
    deliver(said, deadlineMs) {
      const delivered = async () => {
        if (mode === 'socket') {
          await Promise.all(said.deliveries.map((body) => fake.socket.deliverEvent(body)));
        } else {
          const results = await Promise.all(said.deliveries.map((body) => send.event(body)));
          for (const r of results) if (r.status !== 200) throw new Error(`event answered HTTP ${r.status}`);
        }
        // Bolt acks before it runs listeners; let them register their work, then wait for it.
        await new Promise((resolve) => setImmediate(resolve));
        await slack.idle();
      };
      return settle(delivered(), 'the bot to finish with the delivered message', deadlineMs);
    },
    settle,
    async close() {
      const closed = async () => {
        await slack.stop();
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
        await app.close();
        if (options.reuse) return;
        await sim.close();
        await fake.close();
      };
      try {
        await settle(closed(), 'the Slack rig to close');
      } finally {
        if (fakeClock) useRealClock();
      }
    },
  };
}

/** The bot's replies in a thread as one text, the way a person reads them top to bottom. */
export function threadText(rig: Rig, channel: string, threadTs: string): string {
  return rig.fake
    .thread(channel, threadTs)
    .filter((m) => m.bot)
    .map((m) => m.text)
    .join('\n');
}

/** How a person mentions the bot in a message. */
export const botMention = (rig: Rig): string => `<@${rig.fake.bot.userId}>`;

/** The texts of the bot's messages in a thread, oldest first. */
export const botThreadReplies = (rig: Rig, channel: string, threadTs: string): string[] =>
  rig.fake
    .thread(channel, threadTs)
    .filter((m) => m.bot)
    .map((m) => m.text);
