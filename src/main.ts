#!/usr/bin/env node
import { answerChatFlags, runInteractive, sendConsoleMessage } from '../adapters/console/index.ts';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { type AdapterStarter, StartupError } from './platform.ts';
import { handleSignals, type RunningBot, runBot, StartupAborted } from './server.ts';
import { StoreError } from './store/index.ts';
import { IdleMemoryRelease } from './util/idle-memory.ts';

const USAGE = `Usage:
  qwenbot                 start the bot on the platforms whose credentials are set
  qwenbot chat [message]  chat in the terminal (one message, or an interactive session)
  qwenbot help            this text`;

export async function main(argv: string[]): Promise<number> {
  const [command = 'start', ...rest] = argv;
  const flagged = answerChatFlags(argv);
  if (flagged !== undefined) return flagged;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`qwenbot: configuration error: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  if (command === 'chat') return chat(config, rest.join(' ').trim());
  if (command === 'start') return start(config);
  process.stderr.write(`qwenbot: unknown command "${command}"\n${USAGE}\n`);
  return 2;
}

function requireKey(config: Config): boolean {
  if (config.qwen.apiKey) return true;
  process.stderr.write(
    'qwenbot: DASHSCOPE_API_KEY is not set. Create a key in the DashScope (Model Studio) console for your region,\n' +
      '  then: DASHSCOPE_API_KEY=sk-... npm start -- chat "hello"   (or try `npm run demo`, which needs no key)\n',
  );
  return false;
}

async function chat(config: Config, message: string): Promise<number> {
  if (!requireKey(config)) return 2;
  // The terminal user gets the answer on stdout and one clear line on stderr when it fails; the
  // structured log (to stderr) only when asked for with LOG_LEVEL.
  if (!process.env.LOG_LEVEL) config.log.level = 'silent';
  const app = await openApp(config, 2);
  if (typeof app === 'number') return app;
  const io = { service: app.service, output: process.stdout, errors: process.stderr };
  try {
    if (message) {
      const outcome = await sendConsoleMessage(io, message);
      return outcome.status === 'error' ? 1 : 0;
    }
    await runInteractive({ ...io, input: process.stdin, prompt: process.stdin.isTTY === true });
    return 0;
  } finally {
    await app.close();
  }
}

const mb = (bytes: number) => Math.round(bytes / 104_857.6) / 10;

async function start(config: Config): Promise<number> {
  const starters = platformStarters(config);
  if (starters.length === 0) {
    // Not a success: a supervisor restarting on exit 0 would loop, and nothing would ever connect.
    process.stderr.write(
      'qwenbot: no chat platform is configured, so there is nothing to connect to; set the variables for one:\n' +
        '  Discord: DISCORD_TOKEN (see README, "Discord").\n' +
        '  Slack:   SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) (see README, "Slack").\n' +
        '  Try it in the terminal meanwhile: DASHSCOPE_API_KEY=sk-... npm start -- chat "hello"\n' +
        '  or with no key at all, against the built-in simulator: npm run demo\n',
    );
    return 2;
  }
  if (!requireKey(config)) return 2;
  // A signal during start-up stops it at once: what started is closed, then exit 0 (docker stop).
  const early = new AbortController();
  const stopEarly = (signal: NodeJS.Signals) => {
    if (early.signal.aborted) process.exit(1);
    early.abort(signal);
  };
  process.on('SIGTERM', stopEarly);
  process.on('SIGINT', stopEarly);
  let bot: RunningBot;
  try {
    bot = await runBot(config, starters, { signal: early.signal });
  } catch (err) {
    if (err instanceof StartupAborted) process.exit(0);
    const code = startupFailure(err);
    if (code === undefined) throw err;
    // Everything was closed; a platform library still holding a socket must not keep a supervisor waiting.
    setTimeout(() => process.exit(code), 1000).unref();
    return code;
  } finally {
    process.off('SIGTERM', stopEarly);
    process.off('SIGINT', stopEarly);
  }
  handleSignals(bot);
  const memoryLog = bot.app.log.child({ component: 'memory' });
  new IdleMemoryRelease({
    onRelease: (before, after) =>
      memoryLog.debug({ rssBeforeMb: mb(before), rssAfterMb: mb(after) }, 'quiet: memory given back'),
  });
  // Keep running until a signal; handleSignals exits the process.
  return new Promise<number>(() => undefined);
}

/** The platforms whose credentials are set. */
function platformStarters(config: Config): AdapterStarter[] {
  const starters: AdapterStarter[] = [];
  // Platform libraries load only when that platform is configured (the terminal chat starts faster).
  if (config.discord.token) {
    starters.push({
      platform: 'discord',
      start: async (ctx) => (await import('../adapters/discord/index.ts')).startDiscordAdapter.start(ctx),
    });
  }
  if (config.slack.botToken) {
    starters.push({
      platform: 'slack',
      start: async (ctx) => (await import('../adapters/slack/starter.ts')).startSlackAdapter.start(ctx),
    });
  }
  return starters;
}

async function openApp(config: Config, logFd: 1 | 2) {
  try {
    return await createApp(config, { logFd });
  } catch (err) {
    const code = startupFailure(err);
    if (code === undefined) throw err;
    return code;
  }
}

/**
 * Prints the one line for a failure a person can act on and returns the exit code; undefined for
 * anything else (a bug: main prints it with its stack). A store that cannot be opened and a malformed
 * FAQ file (FaqFileError is a ConfigError) are configuration problems: exit 2, like a bad setting.
 */
function startupFailure(err: unknown): number | undefined {
  if (err instanceof ConfigError) {
    process.stderr.write(`qwenbot: configuration error: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof StoreError) {
    process.stderr.write(`qwenbot: ${err.message}\n`);
    return 2;
  }
  if (err instanceof StartupError) {
    process.stderr.write(`qwenbot: ${err.message}\n`);
    return 1;
  }
  return undefined;
}

if (import.meta.main) {
  // A promise nobody awaited must not take the whole bot down with it: log it and keep serving.
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(
      `${JSON.stringify({ level: 50, time: Date.now(), msg: 'unhandled rejection', err: String((reason as Error)?.stack ?? reason) })}\n`,
    );
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`qwenbot: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
