import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { t } from '../../src/i18n.ts';
import { type DashScopeSim, lastUserText, startDashScopeSim } from '../support/dashscope-sim.ts';
import { type Harness, message, startHarness, TEST_API_KEY } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let sim: DashScopeSim;
let h: Harness;

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  // A short deadline: the first answer is held (by the simulator) until the second has given up.
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
    sim.script({ holdAfterChunks: 1, hold, match: (body) => lastUserText(body).endsWith('first') });
    const [firstSurface, waitingSurface] = [new RecordingSurface(), new RecordingSurface()];
    const first = h.app.service.handleMessage(message('first'), firstSurface);
    const waiting = await h.app.service.handleMessage(message('second'), waitingSurface);
    expect(waiting).toMatchObject({ status: 'refused', reason: 'conversation busy' });
    expect(waitingSurface.shown()).toEqual([t('en', 'turn.busy')]);
    release();
    expect((await first).status).toBe('answered');
    const third = new RecordingSurface();
    expect((await h.app.service.handleMessage(message('third'), third)).status).toBe('answered');
    expect(third.shown()).toEqual(['Echo: Alice: third']);
    // The message that gave up was never answered nor stored.
    const stored = (await h.app.service.history.load('test:W1:C1')).map((turn) => turn.text);
    expect(stored).toEqual(['first', 'Echo: Alice: first', 'third', 'Echo: Alice: third']);
    expect(sim.chatRequests().map(lastUserText)).toEqual(['Alice: first', 'Alice: third']);
  });
});
