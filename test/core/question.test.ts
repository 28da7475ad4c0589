/**
 * The question an answer responds to: a quoted message folded in as "<author> wrote:", back-to-back
 * messages joined in order, and `/channel mode all` typed the way people write it.
 */
import { describe, expect, it } from 'vitest';
import { CommandRegistry, type CommandSpec } from '../../src/core/commands/registry.ts';
import { composeQuestion } from '../../src/core/question.ts';
import type { Attachment, CommandInvocation } from '../../src/core/types.ts';
import { message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

const file = (name: string): Attachment => ({
  name,
  mime: 'image/png',
  size: 1,
  load: async () => new Uint8Array(),
});

describe('composeQuestion', () => {
  it('puts the quoted message, marked as someone else’s, before the question, its files first', () => {
    const asked = message('what do you think?', {
      attachments: [file('mine.png')],
      quoted: { author: 'Bob', text: 'line one\nline two', attachments: [file('his.png')] },
    });
    const question = composeQuestion([asked], 'en');
    expect(question.text).toBe('Bob wrote:\n> line one\n> line two\n\nwhat do you think?');
    expect(question.attachments.map((a) => a.name)).toEqual(['his.png', 'mine.png']);
    expect(question.quoted).toBeUndefined();
  });

  it('joins one person’s messages in order, merges their files and notes, and answers the last', () => {
    const first = message('my build fails', { id: 'm1', attachments: [file('log.png')] });
    const second = message('with exit code 137', { id: 'm2', quoteUnreadable: true });
    const question = composeQuestion([first, second], 'en');
    expect(question.id).toBe('m2');
    expect(question.text).toBe('my build fails\nwith exit code 137');
    expect(question.attachments.map((a) => a.name)).toEqual(['log.png']);
    expect(question.notes).toEqual([
      '(I could not read the message you replied to: that needs the Message Content intent, which is off.)',
    ]);
  });
});

describe('an option with choices named before its value', () => {
  const spec = (name: string, options: CommandSpec['options']): CommandSpec => ({
    name,
    description: 'd',
    access: 'everyone',
    ephemeral: true,
    options,
    handler: async () => ({ text: '' }),
  });
  const channel = spec('channel', [
    { name: 'mode', description: 'm', type: 'string', choices: ['all', 'mentions'] },
  ]);
  const forget = spec('forget', [
    { name: 'confirm', description: 'c', type: 'string', choices: ['confirm'] },
  ]);
  const registry = new CommandRegistry().add(channel).add(forget);
  const inv = (name: string, rawArgs: string): CommandInvocation => ({
    name,
    rawArgs,
    conversation: { platform: 't', workspace: 'w', channel: 'c', isDM: false },
    author: { id: 'u', name: 'U', isBot: false },
  });

  it('reads `mode all` as `mode:all`, and still `all` alone; a value equal to its option name stays a value', () => {
    expect(registry.parse(channel, inv('channel', 'mode all'), 'en')).toEqual({ options: { mode: 'all' } });
    expect(registry.parse(channel, inv('channel', 'mentions'), 'en')).toEqual({
      options: { mode: 'mentions' },
    });
    expect(registry.parse(forget, inv('forget', 'confirm'), 'en')).toEqual({
      options: { confirm: 'confirm' },
    });
    const bad = registry.parse(channel, inv('channel', 'mode everything'), 'en');
    expect(bad).toEqual({ error: expect.stringContaining('mode must be one of: all, mentions') });
  });
});

describe('a debounce window at shutdown', () => {
  it('does not hold a message back: shutdown answers it with the restart line at once', async () => {
    const h = await startHarness({ config: { triggers: { debounceMs: 60_000 } } });
    try {
      const surface = new RecordingSurface();
      const outcome = h.app.service.handleMessage(message('are you there?'), surface);
      // Far less than the window: the drain closes the open batch instead of waiting it out.
      const drained = h.app.service.drain(0);
      const quick = new Promise((_, reject) => setTimeout(() => reject(new Error('held back')), 5000));
      await expect(Promise.race([outcome, quick])).resolves.toMatchObject({
        status: 'refused',
        reason: 'shutting down',
      });
      await drained;
      expect([...surface.messages.values()]).toEqual([
        '⚠️ The bot is restarting; please ask again in a minute.',
      ]);
      expect(h.sim.chatRequests()).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});
