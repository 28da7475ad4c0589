/**
 * A bot stopping while its Redis host has gone silent (no replies, no FIN: a host that vanished, a
 * network partition) stops within a deadline instead of waiting for replies that never come.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { REDIS_CLOSE_DEADLINE_MS } from '../../src/store/redis-connection.ts';
import { message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';
import { deleteRedisKeys } from '../support/redis-cleanup.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('redis close tests: REDIS_URL is not set, skipping (they need a Redis server)');
const runPrefix = `qwenbot-test-close-${process.pid}-${Date.now()}`;

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  if (REDIS_URL) await deleteRedisKeys(runPrefix, REDIS_URL);
});

describe.skipIf(!REDIS_URL)('stopping while Redis has gone silent', () => {
  it('the app closes once the deadline passes, with a command still waiting for its reply', async () => {
    const proxy = await startTcpProxy(Number(new URL(REDIS_URL ?? '').port || 6379));
    const h = await startHarness({ storeUrl: proxy.url, namespace: `${runPrefix}-a` });
    // Its answer's bookkeeping (usage, the answer's record) is still being written when Redis goes silent.
    try {
      const answered = await h.app.service.handleMessage(message('hello'), new RecordingSurface());
      expect(answered.status).toBe('answered');
      proxy.silence();
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const pending = h.app.store.get('never-answered').then(
        () => 'answered',
        () => 'failed',
      );
      let closed = false;
      const closing = h.close().then(() => {
        closed = true;
      });
      await vi.advanceTimersByTimeAsync(REDIS_CLOSE_DEADLINE_MS - 100);
      expect(closed).toBe(false);
      await vi.advanceTimersByTimeAsync(200);
      vi.useRealTimers();
      // Before: node-redis's close() waited for the reply for as long as the test ran.
      await vi.waitFor(() => expect(closed).toBe(true), { timeout: 2000 });
      await closing;
      // The command that never got its reply fails rather than hanging its caller, and the log says why.
      expect(await pending).toBe('failed');
      expect(h.logs.text).toContain('redis: no reply within 5 s while stopping; dropping the connection');
    } finally {
      vi.useRealTimers();
      await proxy.close();
    }
  });
});
