import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { pruneVectors, vectorKey } from '../../src/faq/vector-cache.ts';
import { closeStore, createStore, type Store } from '../../src/store/index.ts';
import { listKeys } from '../../src/store/keys.ts';
import { type Harness, silentLogger, startHarness } from '../support/harness.ts';

const REDIS_URL = process.env.REDIS_URL;
const runId = `qwenbot-test-faqvec-${process.pid}-${Date.now()}`;
const settings = { model: 'text-embedding-v4', dimensions: 4 };

const opened: Store[] = [];
afterAll(async () => {
  for (const s of opened) {
    await s.clear();
    await closeStore(s);
  }
});

const backends: Array<[string, string | undefined]> = [
  ['sqlite', `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-faqvec-')), 'bot.sqlite')}`],
  ['redis', REDIS_URL],
];

describe.each(backends)('FAQ vectors on %s', (_name, url) => {
  it.skipIf(!url)('the vectors of phrasings no longer in the FAQ are deleted, nothing else', async () => {
    const store = await createStore(url ?? '', { namespace: runId });
    opened.push(store);
    const key = (text: string) => vectorKey(settings.model, settings.dimensions, text);
    for (const text of ['How do I log in?', 'Where is the VPN?', 'An entry that was removed'])
      await store.set(key(text), 'AAAAAAAAAAAAAAAAAAAAAA==');
    await store.set(vectorKey('old-model', 4, 'How do I log in?'), 'AAAAAAAAAAAAAAAAAAAAAA==');
    await store.set('settings:v1:test:W1:C1', { model: 'qwen-plus' });

    const deleted = await pruneVectors(['How do I log in?', 'Where is the VPN?'], {
      store,
      log: silentLogger(),
      settings,
    });
    expect(deleted).toBe(2);
    expect((await listKeys(store, 'faqvec:v1:'))?.sort()).toEqual(
      [key('How do I log in?'), key('Where is the VPN?')].sort(),
    );
    expect(await store.get('settings:v1:test:W1:C1')).toEqual({ model: 'qwen-plus' });
  });
});

describe('reloading an edited FAQ', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('leaves exactly one stored vector per current phrasing', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-faq-')), 'faq.yaml');
    copyFileSync(path.resolve('config/faq.yaml'), file);
    h = await startHarness({ config: { faq: { watch: false, path: file } } });
    await h.app.faq.ready();
    expect(await listKeys(h.app.store, 'faqvec:v1:')).toHaveLength(32);
    writeFileSync(file, readFileSync(file, 'utf8').replace('Cancel a long reply', 'Abort a runaway reply'));
    await h.app.faq.reload();
    const stored = await listKeys(h.app.store, 'faqvec:v1:');
    expect(stored).toHaveLength(32);
    const model = h.app.config.qwen.embeddingModel;
    const dims = h.app.config.qwen.embeddingDimensions;
    expect(stored).not.toContain(vectorKey(model, dims, 'Cancel a long reply'));
    expect(stored).toContain(vectorKey(model, dims, 'Abort a runaway reply'));
  });
});
