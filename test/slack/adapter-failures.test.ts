/**
 * The Slack adapter when the core misbehaves: the person still sees a line, never silence.
 */
import { afterEach, expect, it } from 'vitest';
import { t } from '../../src/i18n.ts';
import { type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

it('if the chat service throws, the person gets the internal-error line and the failure is logged', async () => {
  rig = await startRig();
  rig.app.service.handleMessage = async () => {
    throw new Error('the core blew up');
  };
  await rig.deliver(rig.say({ channel: 'D0ALICE', text: 'hello?' }));
  const shown = rig.fake.channel('D0ALICE').filter((m) => m.bot);
  expect(shown.map((m) => m.text)).toEqual([t('en', 'error.internal')]);
  const failed = rig.logs.lines.map((l) => JSON.parse(l) as { msg: string; level: number });
  expect(failed.filter((r) => r.msg === 'chat service failed').map((r) => r.level)).toEqual([50]);

  const thread = rig.say({ channel: 'C0GENERAL', text: `<@${rig.fake.bot.userId}> and here?` });
  await rig.deliver(thread);
  expect(
    rig.fake
      .thread('C0GENERAL', thread.ts)
      .filter((m) => m.bot)
      .map((m) => m.text),
  ).toEqual([t('en', 'error.internal')]);
});

it('an answer nested 1,500 levels deep (lists, quotes) is still delivered, readable, in one message each', async () => {
  rig = await startRig();
  const deepList = `${'- '.repeat(1_500)}the bottom of the list`;
  const deepQuote = `${'>'.repeat(1_500)} the bottom of the quote`;
  for (const [text, bottom] of [
    [deepList, 'the bottom of the list'],
    [deepQuote, 'the bottom of the quote'],
  ] as const) {
    rig.sim.script({ text });
    await rig.deliver(rig.say({ channel: 'D0ALICE', text: 'nest deeply' }));
    const reply = rig.fake
      .channel('D0ALICE')
      .filter((m) => m.bot)
      .at(-1);
    expect(reply?.text).toContain(bottom);
  }
  expect(rig.logs.lines.filter((l) => l.includes('Maximum call stack'))).toEqual([]);
});
