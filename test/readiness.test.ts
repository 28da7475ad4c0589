/**
 * Readiness tells the truth: /readyz is 503 from the first second until every configured platform is
 * connected, names the one that is down and why (gateway close code, HTTP status of a refused
 * websocket), and a platform that never connects within `platforms.connectTimeoutSeconds` is logged
 * once with its reason — or, when it is the only one, start-up fails with one line.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDiscord } from '../adapters/discord/index.ts';
import { startSlackAdapter } from '../adapters/slack/starter.ts';
import { loadConfig } from '../src/config/load.ts';
import type { HttpServer } from '../src/http.ts';
import { createLogger } from '../src/log.ts';
import { type AdapterStarter, StartupError } from '../src/platform.ts';
import { type RunningBot, type RunOptions, runBot, StartupAborted } from '../src/server.ts';
import { type DashScopeSim, startDashScopeSim } from './support/dashscope-sim.ts';
import { type FakeDiscord, startFakeDiscord } from './support/fake-discord/index.ts';
import { FakeSlack, say } from './support/fake-slack/index.ts';
import { useFakeClock, useRealClock, withClockStopped } from './support/fake-time.ts';
import { LogSink, TEST_API_KEY } from './support/harness.ts';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface World {
  sim: DashScopeSim;
  discord?: FakeDiscord;
  slack?: FakeSlack;
  logs: LogSink;
}

async function world(platforms: { discord?: boolean; slack?: boolean }): Promise<World> {
  const sim = await startDashScopeSim({ apiKey: TEST_API_KEY, responder: () => 'Still here.' });
  closers.push(() => sim.close());
  const w: World = { sim, logs: new LogSink() };
  if (platforms.discord) {
    const discord = await startFakeDiscord('readiness.bot-token');
    closers.push(() => discord.close());
    w.discord = discord;
  }
  if (platforms.slack) {
    const slack = await FakeSlack.start({ users: [{ id: 'U0ALICE', name: 'alice', displayName: 'Alice' }] });
    closers.push(() => slack.close());
    w.slack = slack;
  }
  return w;
}

const discordStarter: AdapterStarter = {
  platform: 'discord',
  start: ({ app, signal, report }) =>
    startDiscord({ config: app.config, service: app.service, log: app.log, signal, report }),
};

/** runBot with the real Discord and Slack adapters against the fakes; `http` is known before it resolves. */
function boot(w: World, connectTimeoutSeconds: number, options: RunOptions = {}) {
  const env: Record<string, string> = {
    DASHSCOPE_API_KEY: TEST_API_KEY,
    DASHSCOPE_BASE_URL: w.sim.baseUrl,
    QWENBOT_STORE: 'sqlite://:memory:',
    PORT: '0',
  };
  if (w.discord) Object.assign(env, { DISCORD_TOKEN: w.discord.token, DISCORD_API_URL: w.discord.apiUrl });
  if (w.slack)
    Object.assign(env, {
      SLACK_BOT_TOKEN: w.slack.botToken,
      SLACK_APP_TOKEN: w.slack.appToken,
      SLACK_API_URL: w.slack.apiUrl,
    });
  const config = loadConfig({ file: null, env, overrides: { platforms: { connectTimeoutSeconds } } });
  const starters = [...(w.discord ? [discordStarter] : []), ...(w.slack ? [startSlackAdapter] : [])];
  let listening: (http: HttpServer) => void = () => undefined;
  const http = new Promise<HttpServer>((resolve) => (listening = resolve));
  const bot = runBot(config, starters, {
    log: createLogger({ level: 'debug', destination: w.logs }),
    onListening: listening,
    ...options,
  });
  bot.then(
    (b) => closers.push(() => b.shutdown('test end')),
    () => undefined,
  );
  return { bot, http };
}

async function readyz(http: HttpServer): Promise<[number, unknown]> {
  const res = await fetch(`http://127.0.0.1:${http.port}/readyz`);
  return [res.status, await res.json()];
}

/** The log line that says a platform did not connect in time. */
function timeoutLines(logs: LogSink): string[] {
  return logs
    .records()
    .filter((r) => /did not connect within/.test(String(r.msg)))
    .map((r) => String(r.msg));
}

describe('readiness while platforms connect', () => {
  it('is 503 until Discord connects; Discord closing the gateway with 4000 is named, Slack keeps answering', async () => {
    const w = await world({ discord: true, slack: true });
    const fake = w.discord as FakeDiscord;
    fake.gateway.closeWith = 4000;
    const { bot, http } = boot(w, 4);
    const server = await http;
    // The first answer, before anything connected: not ready, each platform named.
    const [first, firstBody] = await readyz(server);
    expect(first).toBe(503);
    expect(Object.keys((firstBody as { failures: object }).failures)).toContain('discord');

    const running: RunningBot = await bot;
    expect(timeoutLines(w.logs)).toEqual([
      'discord did not connect within 4 s: gateway closed the connection with code 4000 (UnknownError)',
    ]);
    expect(await readyz(server)).toEqual([
      503,
      {
        status: 'not ready',
        failures: { discord: 'connecting: gateway closed the connection with code 4000 (UnknownError)' },
      },
    ]);
    // Slack is connected and answers meanwhile.
    const slack = w.slack as FakeSlack;
    const said = say(slack, { user: 'U0ALICE', channel: 'D0ALICE', text: 'are you up?' });
    for (const body of said.deliveries) await slack.socket.deliverEvent(body);
    await expect
      .poll(
        () =>
          slack
            .channel('D0ALICE')
            .filter((m) => m.bot)
            .map((m) => m.text),
        { timeout: 5000 },
      )
      .toEqual(['Still here.']);

    // The gateway recovers: Discord connects late and readiness turns 200.
    fake.gateway.closeWith = undefined;
    await expect.poll(async () => (await readyz(server))[0], { timeout: 15_000, interval: 100 }).toBe(200);
    expect(running.adapters.map((a) => a.name).sort()).toEqual(['discord', 'slack']);
  }, 30_000);

  it('fails start-up with one line when the only platform (Slack) has its websocket refused with 503', async () => {
    const w = await world({ slack: true });
    const slack = w.slack as FakeSlack;
    slack.socket.refuseWith = 503;
    const { bot, http } = boot(w, 0.4);
    const server = await http;
    expect(await readyz(server)).toEqual([503, { status: 'not ready', failures: { slack: 'connecting' } }]);
    const err = await bot.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toBe(
      "no chat platform connected within 0.4 s: slack (Socket Mode websocket refused: HTTP 503). Check the network and the platform's status (platforms.connectTimeoutSeconds sets the wait).",
    );
    expect(slack.socket.refused).toBeGreaterThan(0);
    expect(timeoutLines(w.logs)).toEqual([
      'slack did not connect within 0.4 s: Socket Mode websocket refused: HTTP 503',
    ]);
    // Everything was closed: the HTTP server no longer answers.
    await expect(fetch(`http://127.0.0.1:${server.port}/readyz`)).rejects.toThrow();
  });

  it('with Discord up and the Slack websocket refused, /readyz names Slack and its HTTP status', async () => {
    const w = await world({ discord: true, slack: true });
    const slack = w.slack as FakeSlack;
    slack.socket.refuseWith = 403;
    const { bot, http } = boot(w, 4);
    const server = await http;
    const running = await bot;
    expect(running.adapters.map((a) => a.name)).toEqual(['discord']);
    expect(timeoutLines(w.logs)).toEqual([
      'slack did not connect within 4 s: Socket Mode websocket refused: HTTP 403',
    ]);
    expect(await readyz(server)).toEqual([
      503,
      { status: 'not ready', failures: { slack: 'connecting: Socket Mode websocket refused: HTTP 403' } },
    ]);
  }, 20_000);

  it('names the HTTP status when apps.connections.open answers a server error', async () => {
    const w = await world({ slack: true });
    const slack = w.slack as FakeSlack;
    slack.serverErrorNext('apps.connections.open', 503, 100);
    const err = await boot(w, 0.6).bot.catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^no chat platform connected within 0\.6 s: slack \(apps\.connections\.open answered HTTP 503\)\./,
    );
    expect(slack.count('apps.connections.open', 'http_503')).toBeGreaterThan(0);
    expect(slack.socket.connections).toBe(0);
  });

  it('names a Discord gateway that refuses the websocket (HTTP 503) or never finishes the handshake', async () => {
    const refused = await world({ discord: true });
    (refused.discord as FakeDiscord).refuseGatewayWith = 503;
    const err = await boot(refused, 0.5).bot.catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^no chat platform connected within 0\.5 s: discord \(gateway error: Unexpected server response: 503\)\./,
    );

    const silent = await world({ discord: true });
    const fake = silent.discord as FakeDiscord;
    fake.gateway.silent = true;
    const { bot, http } = boot(silent, 0.3);
    await http;
    const late = await bot.catch((e: unknown) => e);
    expect((late as Error).message).toMatch(
      /^no chat platform connected within 0\.3 s: discord \(gateway handshake not finished \(no READY yet\)\)\./,
    );
    expect(fake.gateway.opened).toBe(1);
  });

  it('gives up at once when start-up is aborted (a signal): StartupAborted, nothing left open', async () => {
    const w = await world({ discord: true });
    (w.discord as FakeDiscord).gateway.silent = true;
    const controller = new AbortController();
    const { bot, http } = boot(w, 60, { signal: controller.signal });
    const server = await http;
    await (w.discord as FakeDiscord).waitFor(() => (w.discord as FakeDiscord).gateway.opened > 0);
    // "At once": with the clock stopped no timer fires (login retry, connect timeout), so nothing but
    // the abort itself can end start-up.
    useFakeClock();
    let err: unknown;
    try {
      controller.abort('SIGTERM');
      err = await withClockStopped(
        bot.catch((e: unknown) => e),
        'start-up to give up',
      );
    } finally {
      useRealClock();
    }
    expect(err).toBeInstanceOf(StartupAborted);
    await expect(fetch(`http://127.0.0.1:${server.port}/readyz`)).rejects.toThrow();
  });
});
