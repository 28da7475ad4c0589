/**
 * A command on one instance takes the conversation's shared turn without waiting for the answer another
 * instance is streaming there; that answer is not stored after a /reset.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { t } from '../../src/i18n.ts';
import { type Harness, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';

const REDIS_URL = process.env.REDIS_URL;
const runPrefix = `qwenbot-test-cmdturn-${process.pid}-${Date.now()}`;
const harnesses: Harness[] = [];

afterAll(async () => {
  for (const h of harnesses) await h.close().catch(() => undefined);
  if (!REDIS_URL) return;
  // Leave nothing behind on the shared Redis.
  await deleteRedisKeys(runPrefix, REDIS_URL);
});

describe.skipIf(!REDIS_URL)('commands across instances (Redis)', () => {
  it('/reset on instance B while instance A streams the answer: B clears at once, nothing is left', async () => {
    const a = await startHarness({ storeUrl: REDIS_URL, namespace: runPrefix });
    harnesses.push(a);
    const b = await startHarness({ storeUrl: REDIS_URL, namespace: runPrefix, reuseSim: a.sim });
    harnesses.push(b);
    let release: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    a.sim.script({ text: 'Oolong is a partly oxidised tea.', chunkChars: 4, holdAfterChunks: 2, hold });
    const surface = new RecordingSurface();
    const answer = a.app.service.handleMessage(message('tell me about oolong'), surface);
    await vi.waitFor(() => expect(surface.transcript()).toContain('Oolong i'));
    const cleared = vi.spyOn(b.app.service.history, 'clear');
    const reset = b.app.service.runCommand({
      name: 'reset',
      conversation: message('').conversation,
      author: { id: 'U1', name: 'Alice', isBot: false },
    });
    // A holds the shared turn only while a question arrives: B's reset goes ahead mid-answer.
    await vi.waitFor(() => expect(cleared).toHaveBeenCalled());
    release();
    expect((await answer).status).toBe('answered');
    expect((await reset).text).toBe(t('en', 'reset.done'));
    expect(await a.app.service.history.load('test:W1:C1')).toEqual([]);
  });
});
