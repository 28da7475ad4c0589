import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BOT_EVENTS,
  METHOD_SCOPES,
  requiredScopes,
  SLASH_COMMAND,
} from '../../adapters/slack/capabilities.ts';
import { slash } from '../support/fake-slack/index.ts';
import { type Rig, startRig } from './rig.ts';

interface Manifest {
  features: { slash_commands: Array<{ command: string; usage_hint: string; description: string }> };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { bot_events: string[] } };
}

const manifest = parse(
  readFileSync(new URL('../../config/slack-manifest.yaml', import.meta.url), 'utf8'),
) as Manifest;

let rig: Rig;
afterEach(async () => rig?.close());

describe('config/slack-manifest.yaml', () => {
  it('declares exactly the scopes and events the adapter uses', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(requiredScopes());
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual([...BOT_EVENTS].sort());
  });

  it('declares the one slash command, listing every command of the core registry', async () => {
    rig = await startRig();
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual([SLASH_COMMAND]);
    const hint = manifest.features.slash_commands[0]?.usage_hint ?? '';
    const listed = hint.split('|').map((part) => part.trim().split(/\s+/)[0]);
    expect(listed.sort()).toEqual(
      rig.app.service
        .commands()
        .map((c) => c.name)
        .sort(),
    );
  });

  it('covers every Web API method the bot actually calls', async () => {
    rig = await startRig({ sim: { responder: () => 'fine' } });
    const said = rig.say({ channel: 'C0GENERAL', text: `<@${rig.fake.bot.userId}> hi` });
    await rig.deliver(said);
    rig.fake.failNext('chat.startStream', 'msg_too_long');
    await rig.deliver(rig.say({ channel: 'C0GENERAL', threadTs: said.ts, text: 'and again' }));
    await rig.deliver(rig.say({ channel: 'D0ALICE', text: 'hello' }));
    await rig.send.command(slash(rig.fake, { user: 'U0ALICE', channel: 'D0ALICE', text: 'help' }));
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    const called = [...rig.fake.calledMethods()];
    for (const m of ['chat.startStream', 'chat.postMessage', 'chat.update', 'users.info', 'auth.test']) {
      expect(called).toContain(m);
    }
    for (const method of called) expect(Object.keys(METHOD_SCOPES), method).toContain(method);
  });
});
