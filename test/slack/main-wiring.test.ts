import { afterEach, describe, expect, it } from 'vitest';
import { startSlackAdapter } from '../../adapters/slack/starter.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { StartupError } from '../../src/platform.ts';
import { type RunningBot, runBot } from '../../src/server.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { FakeSlack, SignedSender, say } from '../support/fake-slack/index.ts';
import { ALICE, API_KEY, LogSink, SIGNING_SECRET } from './rig.ts';

let fake: FakeSlack;
let sim: DashScopeSim;
let bot: RunningBot | undefined;
afterEach(async () => {
  await bot?.shutdown('test over');
  bot = undefined;
  await sim?.close();
  await fake?.close();
});

async function boot(env: Record<string, string> = {}) {
  fake = await FakeSlack.start({ users: [{ id: ALICE, name: 'alice', displayName: 'Alice' }] });
  sim = await startDashScopeSim({ apiKey: API_KEY, responder: () => 'Served through main.' });
  const config = loadConfig({
    env: {
      DASHSCOPE_API_KEY: API_KEY,
      DASHSCOPE_BASE_URL: sim.baseUrl,
      QWENBOT_STORE: 'sqlite://:memory:',
      PORT: '0',
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      ...env,
    },
  });
  const log = createLogger({ level: 'debug', destination: new LogSink() });
  return runBot(config, [startSlackAdapter], { log });
}

describe('Slack wired into main', () => {
  it('serves /slack/events on the shared HTTP server next to /readyz', async () => {
    bot = await boot();
    const base = `http://127.0.0.1:${bot.http.port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const said = say(fake, { user: ALICE, channel: 'D0ALICE', text: 'hello via main' });
    const res = await new SignedSender(`${base}/slack/events`, SIGNING_SECRET).event(said.message);
    expect(res.status).toBe(200);
    await expect
      .poll(
        () =>
          fake
            .channel('D0ALICE')
            .filter((m) => m.bot)
            .map((m) => m.text),
        { timeout: 5000 },
      )
      .toEqual(['Served through main.']);
    const forged = await new SignedSender(`${base}/slack/events`, 'wrong').event(said.message);
    expect(forged.status).toBe(401);
  });

  it('stops main with one line when the Slack token is wrong', async () => {
    const err = await boot({ SLACK_BOT_TOKEN: 'xoxb-wrong' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(/^SLACK_BOT_TOKEN was refused by Slack \(invalid_auth\)/);
    // Nothing is left listening, so main can exit with that line.
    const handles = process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap');
    expect(handles).toHaveLength(2); // the fake Slack and the simulator, not the bot's HTTP server
  });
});
