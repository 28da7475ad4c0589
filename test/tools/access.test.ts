/**
 * The access rules, one case each: config `enabled: false`, channel and user allow-lists (threads count
 * as their parent channel, DMs follow the user list), and an admin's switches in their layers
 * (conversation over its channel over the workspace), which never reach beyond what config allows.
 * Switches are real settings in a real (in-memory SQLite) store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mcpServerSchema } from '../../src/config/mcp-schema.ts';
import { SettingsStore } from '../../src/core/settings.ts';
import { readTurnStart } from '../../src/core/turn-store.ts';
import { type ConversationRef, conversationKey as key } from '../../src/core/types.ts';
import { closeStore, createStore, type Store } from '../../src/store/index.ts';
import { SettingsToolAccess, toolScopeOf } from '../../src/tools/access.ts';
import { silentLogger } from '../support/harness.ts';
import { watchStoreTraffic } from '../support/store-traffic.ts';

const server = (access: Record<string, unknown> = {}) =>
  mcpServerSchema.parse({ command: 'npx', args: ['some-server'], ...access });

const SERVERS = {
  open: server(),
  off: server({ enabled: false }),
  ops: server({ channels: ['C-OPS'] }),
  alice: server({ users: ['U-ALICE'] }),
  both: server({ channels: ['C-OPS'], users: ['U-ALICE'] }),
};
const ALL = Object.keys(SERVERS);

const channel: ConversationRef = { platform: 'slack', workspace: 'T1', channel: 'C-OPS', isDM: false };
const elsewhere: ConversationRef = { ...channel, channel: 'C-RANDOM' };
const thread: ConversationRef = { ...channel, thread: '1700000000.000100' };
const dm: ConversationRef = { platform: 'discord', workspace: 'dm', channel: 'D-ALICE', isDM: true };

let store: Store;
let settings: SettingsStore;
let access: SettingsToolAccess;

beforeEach(async () => {
  store = await createStore('sqlite://:memory:', { log: silentLogger() });
  settings = new SettingsStore(store);
  access = new SettingsToolAccess({ servers: SERVERS, settings });
});
afterEach(async () => {
  await closeStore(store);
});

const allowed = async (ref: ConversationRef, user: string) =>
  [...(await access.allowedServers(toolScopeOf(ref, user), ALL))].sort();

describe('config rules', () => {
  it('enabled: false is never offered, anywhere, to anyone', async () => {
    expect(await allowed(channel, 'U-ALICE')).not.toContain('off');
    expect(await allowed(dm, 'U-ALICE')).not.toContain('off');
  });

  it('a channel list offers the server only in those channels', async () => {
    expect(await allowed(channel, 'U-BOB')).toEqual(['open', 'ops']);
    expect(await allowed(elsewhere, 'U-BOB')).toEqual(['open']);
  });

  it('a thread counts as its parent channel', async () => {
    expect(await allowed(thread, 'U-BOB')).toEqual(['open', 'ops']);
    expect(await allowed({ ...elsewhere, thread: '1700000000.000200' }, 'U-BOB')).toEqual(['open']);
  });

  it('a user list offers the server only to those users, in every channel', async () => {
    expect(await allowed(elsewhere, 'U-ALICE')).toEqual(['alice', 'open']);
    expect(await allowed(elsewhere, 'U-BOB')).toEqual(['open']);
  });

  it('both lists: the channel and the user must both be listed', async () => {
    expect(await allowed(channel, 'U-ALICE')).toEqual(['alice', 'both', 'open', 'ops']);
    expect(await allowed(elsewhere, 'U-ALICE')).toEqual(['alice', 'open']);
    expect(await allowed(channel, 'U-BOB')).toEqual(['open', 'ops']);
  });

  it('in a DM channel lists do not apply and the user list decides; channel-only servers stay out', async () => {
    expect(await allowed(dm, 'U-ALICE')).toEqual(['alice', 'both', 'open']);
    expect(await allowed(dm, 'U-BOB')).toEqual(['open']);
  });

  it('a server config does not name has no lists (e.g. a built-in one)', async () => {
    const scope = toolScopeOf(elsewhere, 'U-BOB');
    expect([...(await access.allowedServers(scope, ['faq']))]).toEqual(['faq']);
  });
});

describe('admin switches', () => {
  const workspace = 'slack:T1';
  const switchOn = (at: string, name: string, on: boolean) =>
    settings.get(at).then((s) => settings.update(at, { tools: { ...s.tools, [name]: on } }));

  it('a conversation switch turns a server off there only', async () => {
    await switchOn(key(elsewhere), 'open', false);
    expect(await allowed(elsewhere, 'U-ALICE')).toEqual(['alice']);
    expect(await allowed(channel, 'U-ALICE')).toContain('open');
  });

  it('a workspace switch applies to every conversation of the workspace, and a conversation switch overrides it', async () => {
    await switchOn(workspace, 'open', false);
    expect(await allowed(elsewhere, 'U-BOB')).toEqual([]);
    expect(await allowed(channel, 'U-BOB')).toEqual(['ops']);
    await switchOn(key(channel), 'open', true);
    expect(await allowed(channel, 'U-BOB')).toEqual(['open', 'ops']);
    expect(await allowed(elsewhere, 'U-BOB')).toEqual([]);
  });

  it("a thread inherits its channel's switch, and its own switch of another server keeps the channel's", async () => {
    await switchOn(key(channel), 'ops', false);
    expect(await allowed(thread, 'U-BOB')).toEqual(['open']);
    await switchOn(key(thread), 'open', false);
    expect(await allowed(thread, 'U-BOB')).toEqual([]);
    await switchOn(key(thread), 'ops', true);
    expect(await allowed(thread, 'U-BOB')).toEqual(['ops']);
    expect(await allowed(channel, 'U-BOB')).toEqual(['open']);
  });

  it('an admin cannot enable beyond config: not past the channel list, the user list, or enabled: false', async () => {
    for (const name of ['ops', 'alice', 'off']) {
      await switchOn(key(elsewhere), name, true);
      await switchOn(workspace, name, true);
    }
    expect(await allowed(elsewhere, 'U-BOB')).toEqual(['open']);
    await switchOn(key(dm), 'ops', true);
    expect(await allowed(dm, 'U-BOB')).toEqual(['open']);
  });
});

describe('store reads', () => {
  it('allowedServers reads the store once (conversation, channel and workspace together), and not at all when config says no', async () => {
    const { traffic, reset } = watchStoreTraffic(store);
    reset();
    await access.allowedServers(toolScopeOf(thread, 'U-BOB'), ALL);
    expect(traffic.roundTrips).toBe(1);
    reset();
    await access.allowedServers(toolScopeOf(elsewhere, 'U-BOB'), ['off', 'ops', 'alice']);
    expect(traffic.roundTrips).toBe(0);
  });

  it('allowedFrom decides from the settings the answer turn already read, with no read of its own', async () => {
    const switchOff = (at: string, name: string) =>
      settings.get(at).then((s) => settings.update(at, { tools: { ...s.tools, [name]: false } }));
    await switchOff(key(channel), 'ops');
    await switchOff('slack:T1', 'alice');
    // The thread's own switch of another server: the channel's switch of `ops` still holds in it.
    await switchOff(key(thread), 'open');
    const start = await readTurnStart(settings, thread);
    const { traffic, reset } = watchStoreTraffic(store);
    reset();
    const scope = toolScopeOf(thread, 'U-ALICE');
    expect([...access.allowedFrom(scope, ALL, start)].sort()).toEqual(['both']);
    // What the tool registry calls with the answer turn's settings: the same verdict, no read either.
    expect([...(await access.allowedServers(scope, ALL, start))].sort()).toEqual(['both']);
    expect(traffic.roundTrips).toBe(0);
  });
});
