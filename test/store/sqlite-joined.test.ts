import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conversationKey } from '../../src/core/types.ts';
import { closeStore, createStore, type Store, sqliteOf } from '../../src/store/index.ts';
import { claimSqliteKey } from '../../src/store/sqlite-batch.ts';
import { inBackground } from '../../src/store/statement-lanes.ts';
import { type Harness, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';
import { watchStoreTraffic } from '../support/store-traffic.ts';

const sqliteFile = () =>
  `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-joined-')), 'j.sqlite')}`;
const open: Store[] = [];
const harnesses: Harness[] = [];

afterAll(async () => {
  for (const store of open) await closeStore(store);
  for (const h of harnesses) await h.close();
});

async function storeWithRows(rows: number): Promise<Store> {
  const store = await createStore(sqliteFile());
  open.push(store);
  await store.setMany(Array.from({ length: rows }, (_, n) => ({ key: `row:${n}`, value: `value ${n}` })));
  return store;
}

describe('SQLite statements under load', () => {
  it('reads that arrive together share a few statements, and each caller gets its own rows', async () => {
    const store = await storeWithRows(80);
    const { traffic } = watchStoreTraffic(store);
    const reads = Array.from({ length: 40 }, (_, n) => store.getMany([`row:${2 * n}`, `row:${2 * n + 1}`]));
    const results = await Promise.all(reads);
    expect(results).toEqual(results.map((_, n) => [`value ${2 * n}`, `value ${2 * n + 1}`]));
    // Two go at once, the 38 that wait join in fours: 12 statements where there were 40.
    expect(traffic.roundTrips).toBeLessThanOrEqual(12);
  });

  it('writes that arrive together land whole, the later of two writes to one key last', async () => {
    const store = await storeWithRows(0);
    const { traffic } = watchStoreTraffic(store);
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        store.setMany([
          { key: `w:${n}`, value: n },
          { key: 'w:shared', value: n },
        ]),
      ),
    );
    expect(traffic.roundTrips).toBeLessThanOrEqual(7);
    expect(await store.getMany(['w:0', 'w:19', 'w:shared'])).toEqual([0, 19, 19]);
  });

  it("a new question's write goes ahead of bookkeeping writes that were waiting before it", async () => {
    const store = await storeWithRows(0);
    const landed: string[] = [];
    const bookkeeping = Array.from({ length: 40 }, (_, n) =>
      inBackground(() => store.setMany([{ key: `usage:${n}`, value: { answers: n } }])).then(() =>
        landed.push(`usage ${n}`),
      ),
    );
    const question = store
      .setMany([{ key: 'hist:turn:0', value: { role: 'user', text: 'hello' } }])
      .then(() => landed.push('question'));
    await Promise.all([...bookkeeping, question]);
    // Two bookkeeping writes were already running and the next four wait joined: the question is next.
    expect(landed.indexOf('question')).toBeLessThanOrEqual(6);
    expect(landed).toHaveLength(41);
    expect(await store.getMany(['usage:39', 'hist:turn:0'])).toEqual([
      { answers: 39 },
      { role: 'user', text: 'hello' },
    ]);
  });

  it('claims made together: one message id is claimed once, an expired claim again', async () => {
    const store = await storeWithRows(0);
    const sqlite = sqliteOf(store);
    if (!sqlite) throw new Error('expected a SQLite store');
    await claimSqliteKey(sqlite, 'dedupe:old', -1000); // a claim that expired a second ago
    const claims = await Promise.all([
      claimSqliteKey(sqlite, 'dedupe:a', 60_000),
      claimSqliteKey(sqlite, 'dedupe:b', 60_000),
      claimSqliteKey(sqlite, 'dedupe:a', 60_000),
      claimSqliteKey(sqlite, 'dedupe:old', 60_000),
      claimSqliteKey(sqlite, 'dedupe:c', 60_000),
    ]);
    expect(claims).toEqual([true, true, false, true, true]);
    expect(await claimSqliteKey(sqlite, 'dedupe:b', 60_000)).toBe(false);
  });

  it('30 conversations asking at once: every answer complete, every history its own and in order', async () => {
    const h = await startHarness({
      storeUrl: sqliteFile(),
      config: { guards: { userMessagesPerWindow: 1000 } },
    });
    harnesses.push(h);
    const ref = (n: number) => ({ platform: 'test', workspace: 'W1', channel: `C${n}`, isDM: true });
    const { traffic } = watchStoreTraffic(h.app.store);
    const texts: string[][] = [];
    await Promise.all(
      Array.from({ length: 30 }, async (_, n) => {
        texts[n] = [];
        for (let round = 0; round < 3; round++) {
          const surface = new RecordingSurface();
          const outcome = await h.app.service.handleMessage(
            message(`question ${round} from ${n}`, { conversation: ref(n) }),
            surface,
          );
          expect(outcome.status).toBe('answered');
          texts[n]?.push(surface.shown().join(''));
        }
      }),
    );
    await h.app.service.queue.idle();
    await h.app.service.inflight.flush();
    for (let n = 0; n < 30; n++) {
      const turns = await h.app.service.history.load(conversationKey(ref(n)));
      expect(turns.map((t) => `${t.role}: ${t.text}`)).toEqual(
        [0, 1, 2].flatMap((round) => [
          `user: question ${round} from ${n}`,
          `assistant: ${texts[n]?.[round]}`,
        ]),
      );
    }
    // Turns that wait for the connection share statements: about 11 per turn one at a time.
    expect(traffic.roundTrips / 90).toBeLessThan(9);
  });
});
