/**
 * Discord and Slack are one adapter shape to main (src/platform.ts): the same members, and the same
 * meaning behind them — ready and no problem once connected, commands registered again on request,
 * pause stops intake while the connection stays for answers in flight, stop disconnects.
 */
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { DiscordAdapter } from '../adapters/discord/adapter.ts';
import { startDiscordAdapter } from '../adapters/discord/index.ts';
import type { SlackAdapter } from '../adapters/slack/adapter.ts';
import { startSlackAdapter } from '../adapters/slack/starter.ts';
import { t } from '../src/i18n.ts';
import type { AdapterStarter, PlatformAdapter } from '../src/platform.ts';
import { startDiscordHarness } from './discord/harness.ts';
import { ALICE, startRig } from './slack/rig.ts';
import { slash } from './support/fake-slack/index.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const MEMBERS = ['isReady', 'problem', 'registerCommands', 'pause', 'stop'] as const;

describe('one adapter shape', () => {
  it('is what both adapter classes and both starters are, at compile time', () => {
    expectTypeOf<DiscordAdapter>().toMatchTypeOf<PlatformAdapter>();
    expectTypeOf<SlackAdapter>().toMatchTypeOf<PlatformAdapter>();
    const starters = [startDiscordAdapter, startSlackAdapter] satisfies AdapterStarter[];
    expect(starters.map((s) => s.platform)).toEqual(['discord', 'slack']);
  });

  it('means the same on Discord and Slack: ready, commands, pause, stop', async () => {
    const h = await startDiscordHarness();
    closers.push(() => h.close());
    const rig = await startRig({ mode: 'socket' });
    closers.push(() => rig.close());
    const adapters: PlatformAdapter[] = [h.discord, rig.slack];
    expect(adapters.map((a) => a.name)).toEqual(['discord', 'slack']);
    for (const a of adapters) {
      for (const m of MEMBERS) expect(typeof a[m], `${a.name}.${m}`).toBe('function');
      expect(a.isReady()).toBe(true);
      expect(a.problem()).toBeUndefined();
      expect(a.editor.platform).toBe(a.name);
    }

    // Discord overwrites its application commands again; Slack keeps one /qwen listener (one reply).
    const commandPuts = () =>
      h.fake.state.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/commands')).length;
    const putsBefore = commandPuts();
    for (const a of adapters) await a.registerCommands();
    expect(commandPuts()).toBe(putsBefore + 1);
    await rig.fake.socket.deliverCommand(slash(rig.fake, { user: ALICE, channel: 'D0ALICE', text: 'reset' }));
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    expect(rig.fake.responses.map((r) => r.body.text)).toEqual(['History cleared for this conversation.']);

    // Paused: Discord still tells a person why it does not answer; Slack's socket is closed.
    for (const a of adapters) await a.pause();
    h.fake.say({ author: h.alice, channelId: h.general.id, content: h.mention('still there?') });
    await h.fake.waitFor(() => h.fake.botMessages(h.general.id).length > 0, 10_000, 'the paused reply');
    expect(h.fake.botMessages(h.general.id).map((m) => m.content)).toEqual([t('en', 'status.shutting_down')]);
    expect(rig.slack.isReady()).toBe(false);

    for (const a of adapters) await a.stop();
    expect(adapters.map((a) => a.isReady())).toEqual([false, false]);
  });
});
