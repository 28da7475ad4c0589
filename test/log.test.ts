import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { LogSink, message, startHarness, TEST_API_KEY } from './support/harness.ts';
import { RecordingSurface } from './support/recording-surface.ts';

describe('logging', () => {
  it('redacts secret fields and scrubs secret values wherever they appear', () => {
    const sink = new LogSink();
    const log = createLogger({ destination: sink, secrets: ['sk-supersecret-123456'] });
    log.info(
      { config: { qwen: { apiKey: 'sk-supersecret-123456' } }, headers: { authorization: 'Bearer x' } },
      'config loaded',
    );
    log.warn({ err: new Error('request failed with key sk-supersecret-123456') }, 'oops');
    log.child({ component: 'slack' }).info({ token: 'xoxb-1', botToken: 'xoxb-2' }, 'child');
    expect(sink.text).not.toContain('sk-supersecret-123456');
    expect(sink.text).not.toContain('xoxb-');
    expect(sink.text).toContain('[redacted]');
    expect(sink.records().at(-1)).toMatchObject({ component: 'slack', msg: 'child' });
  });

  it('a whole conversation, including an auth failure, never logs the API key', async () => {
    const h = await startHarness();
    try {
      await h.app.service.handleMessage(message('hello'), new RecordingSurface());
      h.sim.script({
        error: {
          status: 401,
          code: 'invalid_api_key',
          message: `Incorrect API key provided: ${TEST_API_KEY}`,
        },
      });
      const surface = new RecordingSurface();
      await h.app.service.handleMessage(message('again'), surface);
      expect(surface.shown()[0]).toBe(
        '⚠️ The bot cannot reach the model: its API key was refused. An operator needs to check it.',
      );
      expect(h.logs.text).toContain('operator action needed');
      expect(h.logs.text).not.toContain(TEST_API_KEY);
      const stored = await h.app.service.history.load('test:W1:C1');
      expect(stored.length).toBeGreaterThan(0);
      expect(JSON.stringify(stored)).not.toContain(TEST_API_KEY);
    } finally {
      await h.close();
    }
  });
});
