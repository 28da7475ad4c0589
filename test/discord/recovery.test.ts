/**
 * Crash repair seen from a Discord channel: an answer cut by a crash keeps every word each of its
 * messages showed, ends with the interruption line, and is stored whole.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { createApp } from '../../src/app.ts';
import { t } from '../../src/i18n.ts';
import { silentLogger } from '../support/harness.ts';
import { startDiscordHarness } from './harness.ts';

test('a two-message answer cut by a crash keeps both messages whole and is stored whole', async () => {
  const storeUrl = `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-discord-')), 'bot.sqlite')}`;
  const h = await startDiscordHarness({ storeUrl });
  // 50 chunks of 50 characters reach Discord, then the model stalls: 2,500 characters, two messages.
  const words = 'partial words '.repeat(300);
  const streamed = words.slice(0, 2500);
  h.sim.script({ text: words, chunkChars: 50, stallAfterChunks: 50 });
  h.fake.say({ author: h.alice, channelId: h.general.id, content: h.mention('a long question') });
  const squash = (s: string) => s.replace(/\s+/g, '');
  const visible = () => h.fake.botMessages(h.general.id).map((m) => m.content);
  await h.fake.waitFor(() => squash(visible().join('')) === squash(streamed), 10_000, 'the streamed text');
  await h.settle(h.app.service.inflight.flush(), 'the crash-repair records');
  const atCrash = visible();
  expect(atCrash).toHaveLength(2);

  // The first process "dies" here; the next one starts on the same store and repairs.
  const second = await createApp(h.config, { log: silentLogger() });
  expect(await h.settle(second.service.recoverInterrupted([h.discord.editor]), 'the repair')).toBe(1);
  const after = h.fake.botMessages(h.general.id);
  expect(after.map((m) => m.content)).toEqual([
    atCrash[0],
    `${atCrash[1]}\n\n${t('en', 'status.interrupted')}`,
  ]);
  expect(after[1]?.components).toEqual([]);
  const turns = await second.service.history.load(`discord:${h.guild.id}:${h.general.id}`);
  expect(turns.map((turn) => [turn.role, turn.status, turn.text])).toEqual([
    ['user', undefined, 'a long question'],
    ['assistant', 'interrupted', streamed.trim()],
  ]);

  await h.settle(second.close(), 'the second process to close');
  await h.settle(h.app.service.drain(0), 'the stalled answer to end');
  await h.close();
});
