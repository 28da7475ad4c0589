/**
 * A store failure before the model is called, in a Slack DM (post-and-edit: a placeholder is posted
 * first): one message, the error line — not a "…" left forever plus the error — and nothing leaks.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { t } from '../../src/i18n.ts';
import { StoreError } from '../../src/store/index.ts';
import { type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const DM = 'D0ALICE';

it('an early store error shows exactly one bot message, the error line; gauge and active set back to 0', async () => {
  rig = await startRig();
  vi.spyOn(rig.app.service.settings, 'loadWith').mockRejectedValueOnce(new StoreError('load settings: down'));
  await rig.deliver(rig.say({ channel: DM, text: 'hello?' }));
  const shown = rig.fake.ws.channel(DM).filter((m) => m.bot);
  expect(shown.map((m) => m.text.replace(/\u200b/g, ''))).toEqual([`⚠️ ${t('en', 'error.store')}`]);
  expect(rig.app.service.activeCount).toBe(0);
  expect((await rig.app.metrics.activeStreams.get()).values[0]?.value ?? 0).toBe(0);
  expect(rig.sim.chatRequests()).toHaveLength(0);
});
