/**
 * The core writes every command reference in its own lines through the platform's speller (Slack
 * registers `/qwen reset`); platforms that register none get `/reset`. What the person wrote is never
 * respelled.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { t } from '../../src/i18n.ts';
import { type ModelHarness, startModelHarness } from '../support/fake-model.ts';
import { channelRef, message } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: ModelHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ALICE = { id: 'U1', name: 'Alice', isBot: false };
const bang = (command: string) => `!bot ${command}`;

describe('command references', () => {
  it("are written by the platform's speller in refusals, errors, help and usage lines", async () => {
    h = await startModelHarness();
    h.app.service.spellCommandsAs('test', bang);
    const surface = new RecordingSurface();
    const refused = await h.app.service.handleMessage(message('   '), surface);
    expect(refused).toMatchObject({
      status: 'refused',
      line: 'Ask me something after the mention, or try !bot help.',
    });
    expect(surface.shown()).toEqual(['Ask me something after the mention, or try !bot help.']);

    const conversation = channelRef();
    const run = (name: string, rawArgs = '') =>
      h?.app.service.runCommand({ name, rawArgs, conversation, author: ALICE });
    // An unknown name is not a command of ours: written as typed.
    expect((await run('frobnicate'))?.text).toBe('Unknown command /frobnicate. Try !bot help.');
    expect((await run('thinking', 'maybe'))?.text).toBe(
      '!bot thinking: state must be one of: off, low, high, max, on. Usage: !bot thinking [state]',
    );
    const help = (await run('help'))?.text ?? '';
    expect(help).toContain('• `!bot reset` — ');
    expect(help).not.toMatch(/`\/\w/);
    expect((await run('forget'))?.text).toContain('`!bot forget confirm`');
  });

  it('are `/name` on a platform that registered no speller, and the same text as t() gives', async () => {
    h = await startModelHarness();
    h.app.service.spellCommandsAs('slack', bang);
    const surface = new RecordingSurface();
    await h.app.service.handleMessage(message(''), surface);
    expect(surface.shown()).toEqual([t('en', 'guard.empty')]);
    expect(t('en', 'guard.empty')).toBe('Ask me something after the mention, or try /help.');
  });
});
