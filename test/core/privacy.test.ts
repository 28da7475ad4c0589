import { afterEach, describe, expect, it } from 'vitest';
import type { Author } from '../../src/core/types.ts';
import { type ModelHarness, startModelHarness } from '../support/fake-model.ts';
import { channelRef, message } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: ModelHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const alice: Author = { id: 'U1', name: 'Alice', isBot: false };
const bob: Author = { id: 'U2', name: 'Bob', isBot: false };
const dm = channelRef('D1', { isDM: true });

describe('/forget', () => {
  it('explains first, then deletes the caller’s turns, answers, usage and DM settings — and nobody else’s', async () => {
    h = await startModelHarness();
    const s = h.app.service;
    await s.handleMessage(message('alice in channel', { author: alice }), new RecordingSurface());
    await s.handleMessage(message('bob in channel', { author: bob }), new RecordingSurface());
    await s.handleMessage(
      message('alice private', { author: alice, conversation: dm }),
      new RecordingSurface(),
    );
    await s.runCommand({ name: 'system', rawArgs: 'Call me Captain.', author: alice, conversation: dm });

    const explain = await s.runCommand({ name: 'forget', author: alice, conversation: channelRef() });
    expect(explain.text).toMatch(
      /^This deletes everything the bot stored about you: .* in 2 conversation\(s\).*Run `\/forget confirm` to proceed\.$/,
    );
    expect((await s.history.load('test:W1:C1')).length).toBe(4);

    const done = await s.runCommand({
      name: 'forget',
      rawArgs: 'confirm',
      author: alice,
      conversation: channelRef(),
    });
    expect(done.text).toBe(
      'Done: deleted 4 stored message(s) from 2 conversation(s), your usage and your DM settings.',
    );
    expect((await s.history.load('test:W1:C1')).map((t) => t.text)).toEqual([
      'bob in channel',
      'Echo: Bob: bob in channel',
    ]);
    expect(await s.history.load('test:W1:D1')).toEqual([]);
    expect(await s.settings.get('test:W1:D1')).toEqual({});
    expect((await s.usage.totals({ kind: 'user', platform: 'test', id: 'U1' })).all.answers).toBe(0);
    expect((await s.usage.totals({ kind: 'user', platform: 'test', id: 'U2' })).all.answers).toBe(1);
    expect(
      (await s.runCommand({ name: 'forget', author: alice, conversation: channelRef() })).text,
    ).toContain('in 0 conversation(s)');
  });
});
