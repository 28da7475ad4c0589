import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { configErrorOf as errorOf } from './support/config-error.ts';

const load = (overrides?: Record<string, unknown>) => loadConfig({ file: null, env: {}, overrides });

describe('voice configuration', () => {
  it('ships qwen3-asr-flash with DashScope’s limits: 5 minutes, under 10 MB of base64, language detected', () => {
    expect(load().voice).toEqual({
      enabled: true,
      model: 'qwen3-asr-flash',
      maxSeconds: 300,
      maxBytes: 7 * 1024 * 1024,
      quoteChars: 300,
      language: null,
    });
  });

  it('names the key of a bad value', () => {
    expect(errorOf(() => load({ voice: { maxBytes: 20 * 1024 * 1024 } }))).toContain('voice.maxBytes');
    expect(errorOf(() => load({ voice: { maxSeconds: 600 } }))).toContain('voice.maxSeconds');
    expect(errorOf(() => load({ voice: { language: 'English' } }))).toContain('voice.language');
    expect(errorOf(() => load({ voice: { model: 'Qwen3-ASR' } }))).toContain('voice.model');
  });
});
