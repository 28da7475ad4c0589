import { describe, expect, test } from 'vitest';
import { toApplicationCommand } from '../../adapters/discord/commands.ts';
import { conversationOf } from '../../adapters/discord/inbound.ts';
import { inviteUrl, resolvePermission, restBase } from '../../adapters/discord/index.ts';
import type { CommandSpec } from '../../src/core/commands/registry.ts';

const spec: CommandSpec = {
  name: 'ask',
  description: 'd'.repeat(120),
  access: 'admin',
  ephemeral: false,
  handler: async () => ({ text: '' }),
  options: [
    { name: 'tone', description: 'Tone', type: 'string', choices: ['formal', 'casual'] },
    { name: 'count', description: 'How many', type: 'integer', required: true },
    { name: 'ratio', description: 'Ratio', type: 'number' },
    { name: 'loud', description: 'Loud', type: 'boolean' },
    { name: 'model', description: 'Model', type: 'string', maxLength: 64, autocomplete: () => [] },
  ],
};

describe('application commands from the core registry', () => {
  test('option types, required-first order, choices, autocomplete and description limits', () => {
    const cmd = toApplicationCommand(spec);
    expect(cmd.name).toBe('ask');
    expect(cmd.description.length).toBe(100);
    expect(cmd.options.map((o) => [o.name, o.type, o.required])).toEqual([
      ['count', 4, true],
      ['tone', 3, false],
      ['ratio', 10, false],
      ['loud', 5, false],
      ['model', 3, false],
    ]);
    expect(cmd.options[1]?.choices).toEqual([
      { name: 'formal', value: 'formal' },
      { name: 'casual', value: 'casual' },
    ]);
    expect(cmd.options[4]).toMatchObject({ autocomplete: true, max_length: 64 });
    expect(cmd.options[4]?.choices).toBeUndefined();
    // Admin-only commands stay visible: the core refuses them with a clear line.
    expect(cmd).not.toHaveProperty('default_member_permissions');
  });
});

describe('start-up helpers', () => {
  test('the admin permission is a Discord permission name; a typo stops start-up naming the key', () => {
    expect(resolvePermission('ManageGuild')).toBe(1n << 5n);
    expect(() => resolvePermission('ManageServer')).toThrow(/discord\.adminPermission: "ManageServer"/);
  });

  test('DISCORD_API_URL with or without a version becomes the base discord.js versions itself', () => {
    expect(restBase('https://chat.example.org/api')).toBe('https://chat.example.org/api');
    expect(restBase('https://chat.example.org/api/v10/')).toBe('https://chat.example.org/api');
  });

  test('the invite URL asks for bot + applications.commands and only the needed permissions', () => {
    const url = new URL(inviteUrl('123'));
    expect(url.origin + url.pathname).toBe('https://discord.com/oauth2/authorize');
    expect(url.searchParams.get('scope')).toBe('bot applications.commands');
    // View Channel, Send Messages, Read Message History, Send Messages in Threads.
    const expected = (1n << 10n) | (1n << 11n) | (1n << 16n) | (1n << 38n);
    expect(url.searchParams.get('permissions')).toBe(expected.toString());
  });

  test('threads are their own conversation under their parent channel; DMs live under "dm"', () => {
    const thread = { id: 'T', isThread: () => true, parentId: 'P' };
    const text = { id: 'C', isThread: () => false };
    expect(conversationOf(thread, 'T', 'G')).toEqual({
      platform: 'discord',
      workspace: 'G',
      channel: 'P',
      thread: 'T',
      isDM: false,
    });
    expect(conversationOf(text, 'C', 'G')).toEqual({
      platform: 'discord',
      workspace: 'G',
      channel: 'C',
      isDM: false,
    });
    expect(conversationOf(null, 'D', null)).toEqual({
      platform: 'discord',
      workspace: 'dm',
      channel: 'D',
      isDM: true,
    });
  });
});
