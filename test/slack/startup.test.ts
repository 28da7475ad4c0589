import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackStartError, startSlack } from '../../adapters/slack/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { ChatService } from '../../src/core/service.ts';
import { createStore } from '../../src/store/index.ts';
import { FakeSlack } from '../support/fake-slack/index.ts';
import { type Rig, startRig } from './rig.ts';

let rig: Rig | undefined;
let fake: FakeSlack | undefined;
afterEach(async () => {
  await rig?.close();
  await fake?.close();
  rig = undefined;
  fake = undefined;
});

const noService = { spellCommandsAs: () => undefined } as unknown as ChatService;

async function start(env: Record<string, string>) {
  const config = loadConfig({ env: { QWENBOT_STORE: 'sqlite://:memory:', ...env } });
  const store = await createStore('sqlite://:memory:');
  return startSlack({ config, service: noService, log: pino({ level: 'silent' }), store });
}

describe('start-up', () => {
  it('logs the workspace and bot user it connected as', async () => {
    rig = await startRig();
    const line = rig.logs.lines.find((l) => l.includes('connected to Slack'));
    expect(line).toBeDefined();
    const record = JSON.parse(line ?? '{}') as Record<string, unknown>;
    expect(record.msg).toBe('connected to Slack workspace "Fakespace" as @qwen');
    expect(record).toMatchObject({ teamId: 'T0FAKE', botUserId: 'U0BOT', mode: 'http' });
    expect(rig.slack.ready).toBe(true);
    expect(rig.logs.lines.join('\n')).not.toContain(rig.fake.botToken);
  });

  it('fails with one clear line when the bot token is wrong', async () => {
    fake = await FakeSlack.start();
    const err = await start({
      SLACK_BOT_TOKEN: 'xoxb-wrong',
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: fake.apiUrl,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackStartError);
    expect((err as Error).message).toBe(
      'SLACK_BOT_TOKEN was refused by Slack (invalid_auth): use the Bot User OAuth Token (xoxb-…) of the installed app',
    );
  });

  it('fails with one clear line when the app-level token is wrong (Socket Mode)', async () => {
    fake = await FakeSlack.start();
    const err = await start({
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_APP_TOKEN: 'xapp-wrong',
      SLACK_API_URL: fake.apiUrl,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'SLACK_APP_TOKEN was refused by Slack (invalid_auth): use an app-level token (xapp-…) with connections:write',
    );
    expect(fake.socket.connections).toBe(0);
  });

  it('says which setting is missing for HTTP mode', async () => {
    const err = await start({ SLACK_BOT_TOKEN: 'xoxb-x' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'SLACK_SIGNING_SECRET is required for HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  });
});
