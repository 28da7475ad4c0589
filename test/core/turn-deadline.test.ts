import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { t } from '../../src/i18n.ts';
import { type DashScopeSim, lastUserText, startDashScopeSim } from '../support/dashscope-sim.ts';
import { type Harness, message, startHarness, TEST_API_KEY } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let sim: DashScopeSim;
let h: Harness;

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  // A short deadline: the turn is held until the waiting message has given up.
  h = await startHarness({ reuseSim: sim, config: { store: { turnTimeoutSec: 0.2 } } });
});

afterAll(async () => {
  await h.close();
  await sim.close();
});

describe('a message waiting for its conversation’s turn (SQLite, one process)', () => {
  it('gets a clear line at the deadline, is not answered later, and the line moves on', async () => {
    let release = () => {};
    const hold = new Promise<void>((r) => {
      release = r;
    });
    // Something holds the conversation's turn past the deadline (answers no longer do: they stream
    // outside it; a slow store or a long command still can).
    const holding = h.app.service.queue.run('test:W1:C1', () => hold);
    const waitingSurface = new RecordingSurface();
    const waiting = await h.app.service.handleMessage(message('second'), waitingSurface);
    expect(waiting).toMatchObject({ status: 'refused', reason: 'conversation busy' });
    expect(waitingSurface.shown()).toEqual([t('en', 'turn.busy')]);
    release();
    await holding;
    const third = new RecordingSurface();
    expect((await h.app.service.handleMessage(message('third'), third)).status).toBe('answered');
    expect(third.shown()).toEqual(['Echo: Alice: third']);
    // The message that gave up was never answered nor stored.
    const stored = (await h.app.service.history.load('test:W1:C1')).map((turn) => turn.text);
    expect(stored).toEqual(['third', 'Echo: Alice: third']);
    expect(sim.chatRequests().map(lastUserText)).toEqual(['Alice: third']);
  });
});
