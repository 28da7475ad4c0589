/**
 * `/tools` end to end: on Discord as a slash command through discord.js and the fake Discord, on Slack
 * as `/qwen tools …` through Bolt and the fake Slack. What a person sees in the (ephemeral) reply, an
 * admin's switch and a non-admin's refusal, and the switch still there after the bot restarts on the
 * same store. The MCP client is stood in for by a fake catalog (test/support/fake-tools.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from '../discord/harness.ts';
import { ADMIN, ALICE, API_KEY, startRig } from '../slack/rig.ts';
import { startDashScopeSim } from '../support/dashscope-sim.ts';
import type { FakeUser } from '../support/fake-discord/index.ts';
import { FakeSlack, slash } from '../support/fake-slack/index.ts';
import { FAKE_TOOLS_LISTING, fakeToolCatalog, fakeToolServers } from '../support/fake-tools.ts';
import { until } from './support.ts';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

const storeFile = (name: string) =>
  `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), `qwenbot-tools-${name}-`)), 'bot.sqlite')}`;

describe('/tools on Discord', () => {
  test('lists servers as a person sees them, an admin disables one, a non-admin is refused, the switch survives a restart', async () => {
    const config: Record<string, unknown> = { faq: { enabled: false } };
    const h: DiscordHarness = await startDiscordHarness({
      storeUrl: storeFile('discord'),
      tools: fakeToolCatalog(),
      config,
      // The ops channel's id is known only once the fake made it: config is read after this.
      prepare: (fake) => {
        const guild = [...fake.state.guilds.values()][0];
        if (!guild) throw new Error('no guild');
        config.mcp = fakeToolServers(fake.addChannel(guild, 'ops').id);
      },
    });
    closers.push(() => h.close());
    const opsChannel = [...h.fake.state.channels.values()].find((c) => c.name === 'ops');
    if (!opsChannel) throw new Error('no ops channel');

    const tools = async (user: FakeUser, channelId: string, options: Record<string, string> = {}) => {
      const it = h.fake.slash({ user, channelId, name: 'tools', options });
      const original = () => h.fake.state.findMessage(it.originalId ?? '');
      await until(() => (original()?.edits ?? 0) > 0 || it.followUps.length > 0, '/tools to be answered');
      const content = h.fake.state.findMessage(it.followUps[0] ?? '')?.content ?? original()?.content;
      return { content, ephemeral: it.ephemeral };
    };

    const listed = await tools(h.alice, h.general.id);
    expect(listed.ephemeral).toBe(true);
    expect(listed.content).toBe(FAKE_TOOLS_LISTING);
    // A thread counts as its parent channel for the allow-list.
    const thread = h.fake.createThread(opsChannel, 'deploy talk', h.alice);
    expect((await tools(h.alice, thread.id)).content).toContain('`deploy` — ✅ offered here');

    expect((await tools(h.alice, h.general.id, { action: 'disable', server: 'weather' })).content).toBe(
      'Only admins can use /tools disable here.',
    );
    const done = await tools(h.mod, h.general.id, { action: 'disable', server: 'weather' });
    expect(done).toEqual({ content: '**weather** is now disabled in this conversation.', ephemeral: true });
    const disabled = '`get_alerts` — ⏸️ disabled here by an admin (this conversation)';
    expect((await tools(h.alice, h.general.id)).content).toContain(disabled);
    expect((await tools(h.alice, h.random.id)).content).toContain('`get_alerts` — ✅ offered here');
    expect((await tools(h.mod, h.general.id, { action: 'enable', server: 'wether' })).content).toBe(
      'Unknown tool server "wether". Known: weather, files, ops, legacy.',
    );

    await h.restart();
    expect((await tools(h.alice, h.general.id)).content).toContain(disabled);
  });
});

describe('/qwen tools on Slack', () => {
  test('lists servers in mrkdwn, an admin disables one workspace-wide, a non-admin is refused, the switch survives a restart', async () => {
    const fake = await FakeSlack.start({
      users: [
        { id: ALICE, name: 'alice', displayName: 'Alice', locale: 'en-US' },
        { id: ADMIN, name: 'admin', displayName: 'Ada', isAdmin: true, locale: 'en-US' },
      ],
    });
    const sim = await startDashScopeSim({ apiKey: API_KEY });
    closers.push(async () => {
      await sim.close();
      await fake.close();
    });
    const options = {
      storeUrl: storeFile('slack'),
      reuse: { fake, sim },
      tools: fakeToolCatalog(),
      config: { faq: { enabled: false }, mcp: fakeToolServers('C0OPS') },
    };
    let rig = await startRig(options);
    closers.push(() => rig.close());
    const tools = async (user: string, channel: string, text: string) => {
      const before = fake.responses.length;
      const ack = await rig.send.command(slash(fake, { user, channel, text: `tools ${text}`.trim() }));
      expect(ack.status).toBe(200);
      await rig.deliver({ ts: '', message: {}, deliveries: [] });
      await until(() => fake.responses.length > before, 'the /qwen tools reply');
      const body = fake.responses[before]?.body ?? {};
      // toMrkdwn puts zero-width spaces around bold so Slack renders it mid-word; nobody sees them.
      return { text: String(body.text ?? '').replaceAll('\u200b', ''), type: body.response_type };
    };

    const listed = await tools(ALICE, 'C0GENERAL', '');
    expect(listed.type).toBe('ephemeral');
    expect(listed.text).toBe(
      [
        '*Tool servers* (what applies here, for you):',
        '• *weather* (http) — ready, 2 tools: `get_forecast`, `get_alerts` — ✅ offered here',
        '• *files* (stdio) — failed: exited with code 1 (retrying in 30 s) — ✅ offered here',
        '• *ops* (stdio) — ready, 1 tool: `deploy` — 🚫 not allowed here (config allows it only in some channels)',
        '• *legacy* (stdio) — turned off in config — 🚫 turned off in config',
        'Admins: /qwen tools enable &lt;server> or /qwen tools disable &lt;server>; add `workspace` for the whole workspace.',
      ].join('\n'),
    );
    expect((await tools(ALICE, 'C0OPS', '')).text).toContain('`deploy` — ✅ offered here');

    expect((await tools(ALICE, 'C0GENERAL', 'disable weather workspace')).text).toBe(
      'Only admins can use /qwen tools disable here.',
    );
    expect(await tools(ADMIN, 'C0GENERAL', 'disable weather workspace')).toEqual({
      text: '*weather* is now disabled in the whole workspace.',
      type: 'ephemeral',
    });
    const disabled = '`get_alerts` — ⏸️ disabled here by an admin (the whole workspace)';
    expect((await tools(ALICE, 'C0OPS', '')).text).toContain(disabled);
    expect((await tools(ALICE, 'D0ALICE', '')).text).toContain(disabled);

    await rig.close();
    rig = await startRig(options);
    expect((await tools(ALICE, 'C0GENERAL', '')).text).toContain(disabled);
  });
});
