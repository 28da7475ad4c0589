/**
 * Per-conversation state held in the process stays bounded: what a conversation leaves behind in
 * memory is forgotten once it has expired, however many conversations came before.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LocalCoordinator } from '../../src/store/coordination.ts';
import { channelRef, type Harness, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

describe('memory held per conversation', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    vi.useRealTimers();
  });

  it('forgets the duplicate-detection ids of messages once they expire', async () => {
    // Only the clock is fake: the simulator and the store run on real I/O.
    vi.useFakeTimers({ toFake: ['Date'] });
    h = await startHarness({ config: { guards: { dedupeSeconds: 60, userMessagesPerWindow: 1_000_000 } } });
    const answered: string[] = [];
    for (let i = 0; i < 300; i++) {
      const surface = new RecordingSurface();
      await h.app.service.handleMessage(
        message(`hello ${i}`, { conversation: channelRef(`C${i}`) }),
        surface,
      );
      answered.push(surface.transcript());
    }
    expect(answered.filter((t) => t.includes('hello'))).toHaveLength(300);
    const coordinator = h.app.coordinator as LocalCoordinator;
    expect(coordinator.claimsHeld).toBe(300);

    // The dedupe window passes; one more conversation has a turn.
    vi.setSystemTime(Date.now() + 61_000);
    const surface = new RecordingSurface();
    await h.app.service.handleMessage(message('one more', { conversation: channelRef('C-last') }), surface);

    expect(surface.transcript()).toContain('one more');
    expect(coordinator.claimsHeld).toBe(1);
  });
});
