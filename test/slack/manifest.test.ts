import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BOT_EVENTS,
  METHOD_SCOPES,
  requiredScopes,
  SLASH_COMMAND,
} from '../../adapters/slack/capabilities.ts';
import { openAssistant, slash } from '../support/fake-slack/index.ts';
import { type Rig, startRig } from './rig.ts';

interface Manifest {
  features: {
    slash_commands: Array<{ command: string; usage_hint: string; description: string }>;
    assistant_view?: {
      assistant_description?: string;
      suggested_prompts?: Array<{ title: string; message: string }>;
    };
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { bot_events: string[] }; interactivity: { is_enabled: boolean } };
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

  it('turns on the assistant view (a description, at most 4 prompts) and interactivity for Stop', () => {
    const view = manifest.features.assistant_view;
    expect(view?.assistant_description?.length).toBeGreaterThan(0);
    expect(view?.assistant_description?.length).toBeLessThanOrEqual(300);
    expect(view?.suggested_prompts?.length).toBeGreaterThan(0);
    expect(view?.suggested_prompts?.length).toBeLessThanOrEqual(4);
    for (const p of view?.suggested_prompts ?? []) expect(p.title && p.message).toBeTruthy();
    expect(manifest.oauth_config.scopes.bot).toContain('assistant:write');
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
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

  it('grants every scope the bot needs: a workspace installed from it never answers missing_scope', async () => {
    rig = await startRig({
      sim: { responder: () => 'fine' },
      fake: { scopes: manifest.oauth_config.scopes.bot },
    });
    const file = rig.fake.addFile('notes.txt', 'text/plain', Buffer.from('file body text'));
    const said = rig.say({ channel: 'C0GENERAL', text: `<@${rig.fake.bot.userId}> hi` });
    await rig.deliver(said);
    rig.fake.failNext('chat.startStream', 'msg_too_long');
    await rig.deliver(rig.say({ channel: 'C0GENERAL', threadTs: said.ts, text: 'and again' }));
    await rig.deliver(rig.say({ channel: 'D0ALICE', text: 'hello', files: [file] }));
    await rig.send.command(slash(rig.fake, { user: 'U0ALICE', channel: 'D0ALICE', text: 'help' }));
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    // The assistant pane: prompts, the viewed channel's name, the status, the title.
    const opened = openAssistant(rig.fake, { user: 'U0ALICE', dm: 'D0ALICE', viewing: 'C0GENERAL' });
    await rig.deliver({ ts: '', message: opened.body, deliveries: [opened.body] });
    await rig.deliver(rig.say({ channel: 'D0ALICE', threadTs: opened.threadTs, text: 'hi there' }));
    // Web API methods (file downloads go to files.slack.com URLs and need files:read, checked below).
    const called = [...rig.fake.calledMethods()].filter((m) => m !== 'file.download');
    for (const m of [
      'chat.startStream',
      'chat.postMessage',
      'chat.update',
      'users.info',
      'auth.test',
      'assistant.threads.setSuggestedPrompts',
      'assistant.threads.setStatus',
      'assistant.threads.setTitle',
      'conversations.info',
    ]) {
      expect(called).toContain(m);
    }
    for (const method of called) expect(Object.keys(METHOD_SCOPES), method).toContain(method);
    expect(rig.fake.calls.filter((c) => c.outcome !== 'ok' && c.outcome !== 'msg_too_long')).toEqual([]);
    expect(rig.fake.count('file.download')).toBe(1);
    expect(JSON.stringify(rig.sim.chatRequests().map((r) => r.messages))).toContain('file body text');
  });

  it('is what the fake enforces: without users:read the bot still answers, using ids for names', async () => {
    const scopes = manifest.oauth_config.scopes.bot.filter((s) => s !== 'users:read');
    rig = await startRig({ sim: { responder: () => 'fine' }, fake: { scopes } });
    await rig.deliver(rig.say({ channel: 'D0ALICE', text: 'hello' }));
    expect(rig.fake.count('users.info', 'missing_scope')).toBe(1);
    expect(
      rig.fake
        .channel('D0ALICE')
        .filter((m) => m.bot)
        .map((m) => m.text),
    ).toEqual(['fine']);
  });
});
