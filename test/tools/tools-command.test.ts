/**
 * `/tools` through the conversation service (the path every platform's commands take): the list a
 * person sees, switches by an admin and what they answer, refusals and bad arguments.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Author, CommandInvocation, ConversationRef } from '../../src/core/types.ts';
import { FAKE_TOOLS_LISTING, fakeToolCatalog, fakeToolServers } from '../support/fake-tools.ts';
import {
  adminAuthor as admin,
  aliceAuthor as alice,
  channelRef,
  type Harness,
  startHarness,
} from '../support/harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const run = (rawArgs: string, author: Author = alice, conversation: ConversationRef = channelRef()) =>
  (h as Harness).app.service.runCommand({
    name: 'tools',
    rawArgs,
    author,
    conversation,
  } satisfies CommandInvocation);

const start = async (withTools = true) => {
  h = await startHarness({
    config: { faq: { enabled: false }, ...(withTools ? { mcp: fakeToolServers('C-OPS') } : {}) },
    ...(withTools ? { tools: fakeToolCatalog() } : {}),
  });
};

describe('/tools', () => {
  it('lists every server with its state, its tools and what applies here, privately', async () => {
    await start();
    const result = await run('');
    expect(result.ephemeral).toBe(true);
    expect(result.text).toBe(FAKE_TOOLS_LISTING);
    expect((await run('list', alice, channelRef('C-OPS'))).text).toContain(
      '• **ops** (stdio) — ready, 1 tool: `deploy` — ✅ offered here',
    );
  });

  it('with no tool servers it says so and how to add one', async () => {
    await start(false);
    expect((await run('')).text).toBe(
      'No tool servers are configured. An operator adds them under `mcp.servers` in the config file (README, "Tools").',
    );
    expect((await run('disable weather', admin)).text).toBe(
      'Unknown tool server "weather": no tool servers are configured.',
    );
  });

  it('names the built-in FAQ search when the model may use it, with servers or without', async () => {
    const FAQ_LINE =
      '📖 Built in: **faq**, the FAQ search — ✅ offered everywhere (`faq.tool` in the config).';
    h = await startHarness({});
    expect((await run('')).text).toBe(
      `${FAQ_LINE}\nNo tool servers are configured. An operator adds them under \`mcp.servers\` in the config file (README, "Tools").`,
    );
    await h.close();
    h = await startHarness({ config: { mcp: fakeToolServers('C-OPS') }, tools: fakeToolCatalog() });
    expect((await run('')).text).toBe(`${FAKE_TOOLS_LISTING}\n${FAQ_LINE}`);
    await h.close();
    h = await startHarness({ config: { faq: { tool: false } } });
    expect((await run('')).text).not.toContain('FAQ search');
  });

  it('an admin disables a server here: it shows as disabled here, and only here', async () => {
    await start();
    const done = await run('disable weather', admin);
    expect(done).toMatchObject({
      text: '**weather** is now disabled in this conversation.',
      ephemeral: true,
    });
    expect((await run('')).text).toContain(
      '• **weather** (http) — ready, 2 tools: `get_forecast`, `get_alerts` — ⏸️ disabled here by an admin (this conversation)',
    );
    expect((await run('', alice, channelRef('C2'))).text).toContain('`get_alerts` — ✅ offered here');
    // Server names are matched regardless of case.
    expect((await run('enable Weather', admin)).text).toBe(
      '**weather** is now enabled in this conversation.',
    );
    expect((await run('')).text).toContain('`get_alerts` — ✅ offered here');
  });

  it('a workspace switch reaches every conversation; a conversation switch overrides it, and the admin is told', async () => {
    await start();
    expect((await run('disable files workspace', admin)).text).toBe(
      '**files** is now disabled in the whole workspace.',
    );
    expect((await run('', alice, channelRef('C2'))).text).toContain(
      '(retrying in 30 s) — ⏸️ disabled here by an admin (the whole workspace)',
    );
    expect((await run('enable files', admin)).text).toBe('**files** is now enabled in this conversation.');
    expect((await run('')).text).toContain('(retrying in 30 s) — ✅ offered here');
    // Named options work too (Discord sends them so; typed text may).
    expect((await run('action:disable server:files scope:workspace', admin)).text).toBe(
      [
        '**files** is now disabled in the whole workspace.',
        'Here it stays on: this conversation has its own switch.',
      ].join('\n'),
    );
  });

  it('an admin cannot enable beyond config: the switch is stored and the reply says config still decides', async () => {
    await start();
    expect((await run('enable ops', admin)).text).toBe(
      [
        '**ops** is now enabled in this conversation.',
        'Config still decides where it runs: only in some channels.',
      ].join('\n'),
    );
    expect((await run('')).text).toContain(
      '`deploy` — 🚫 not allowed here (config allows it only in some channels)',
    );
    expect((await run('enable legacy workspace', admin)).text).toBe(
      [
        '**legacy** is now enabled in the whole workspace.',
        'Config still decides where it runs: it is turned off in config.',
      ].join('\n'),
    );
  });

  it('refuses non-admins, unknown servers, a missing server and a bad action with a short line', async () => {
    await start();
    expect((await run('disable weather')).text).toBe('Only admins can use /tools disable here.');
    expect((await run('disable wether', admin)).text).toBe(
      'Unknown tool server "wether". Known: weather, files, ops, legacy.',
    );
    expect((await run('enable', admin)).text).toBe(
      '/tools enable needs a server name. Known: weather, files, ops, legacy.',
    );
    expect((await run('disable weather everywhere', admin)).text).toBe(
      '/tools: scope must be one of: here, workspace. Usage: /tools [action] [server] [scope]',
    );
    expect((await run('weather')).text).toBe(
      '/tools: action must be one of: list, enable, disable. Usage: /tools [action] [server] [scope]',
    );
    // Nothing was switched by any of them.
    expect((await run('')).text).toContain('`get_alerts` — ✅ offered here');
  });

  it('suggests server names while typing', async () => {
    await start();
    expect(await h?.app.service.autocomplete('tools', 'server', 'o', channelRef())).toEqual(['ops']);
  });
});
