import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Author } from '../../src/core/types.ts';
import { closeStore, createStore } from '../../src/store/index.ts';
import { channelRef, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

/** Every byte SQLite keeps for this database: the main file, its write-ahead log and shared memory. */
function diskBytes(file: string): string {
  return ['', '-wal', '-shm', '-journal']
    .map((suffix) => `${file}${suffix}`)
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString('latin1'))
    .join('\n');
}

const tempDb = () => path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-disk-')), 'bot.sqlite');

describe('deleted text on SQLite', () => {
  it('is gone from the file, its WAL and shared memory after a clean stop', async () => {
    const file = tempDb();
    const store = await createStore(`sqlite://${file}`);
    await store.set('note:v1:a', 'SECRET-ZEBRA-7731 '.repeat(20));
    await store.set('note:v1:b', 'KEPT-GIRAFFE-1188');
    await store.delete('note:v1:a');
    await closeStore(store);
    const bytes = diskBytes(file);
    expect(bytes.includes('KEPT-GIRAFFE-1188'), 'kept text not found on disk').toBe(true);
    expect(bytes.includes('SECRET-ZEBRA-7731'), 'deleted text still on disk').toBe(false);
  });

  it('leaves no trace of what /forget deleted once the bot stops', async () => {
    const file = tempDb();
    const h = await startHarness({ storeUrl: `sqlite://${file}` });
    const alice: Author = { id: 'U1', name: 'Alice', isBot: false };
    const bob: Author = { id: 'U2', name: 'Bob', isBot: false };
    const s = h.app.service;
    await s.handleMessage(
      message('my passport is X-PASSPORT-55123', { author: alice }),
      new RecordingSurface(),
    );
    await s.handleMessage(message('bob says BOB-WOMBAT-42', { author: bob }), new RecordingSurface());
    // A 👎 with a reason is Alice's words too.
    const vote = { conversation: channelRef(), answerId: 'A1', model: 'qwen-plus', voter: alice };
    await s.feedback.vote({ ...vote, vote: 'down' }, 'en');
    await s.feedback.reason({ ...vote, reason: 'REASON-OCELOT-9071 was wrong' }, 'en');
    const done = await s.runCommand({
      name: 'forget',
      rawArgs: 'confirm',
      author: alice,
      conversation: channelRef(),
    });
    expect(done.text).toMatch(/^Done: deleted 2 stored message\(s\)/);
    await h.close();
    const bytes = diskBytes(file);
    expect(bytes.includes('BOB-WOMBAT-42'), 'kept text not found on disk').toBe(true);
    expect(bytes.includes('X-PASSPORT-55123'), 'deleted text still on disk').toBe(false);
    expect(bytes.includes('REASON-OCELOT-9071'), 'deleted feedback reason still on disk').toBe(false);
  });
});
