/**
 * DashScope's explicit context cache through the real Bolt app: a DM conversation on qwen-plus re-reads
 * its prefix at the cached price, and `/qwen usage` shows the cached tokens and the saving.
 */
import { afterEach, expect, it } from 'vitest';
import { expectedTodayLine, LONG_SYSTEM_PROMPT } from '../support/cache-usage.ts';
import { slash } from '../support/fake-slack/index.ts';
import { ALICE, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const DM = 'D0ALICE';

it('/qwen usage shows the cached tokens of a conversation and what the cache saved', async () => {
  rig = await startRig({
    config: { systemPrompt: LONG_SYSTEM_PROMPT },
    sim: { responder: (b) => `Answer ${b.messages.length}: ${'tea '.repeat(60)}` },
  });
  for (let i = 1; i <= 4; i++) await rig.deliver(rig.say({ channel: DM, text: `question ${i}` }));
  const history = await rig.app.service.history.load(`slack:${rig.fake.team.id}:${DM}`);
  expect(history.filter((t) => t.role === 'assistant').map((t) => (t.usage?.cachedTokens ?? 0) > 0)).toEqual([
    false,
    true,
    true,
    true,
  ]);
  const expected = expectedTodayLine(history);

  const before = rig.fake.responses.length;
  await rig.send.command(slash(rig.fake, { user: ALICE, channel: DM, text: 'usage' }));
  await rig.deliver({ ts: '', message: {}, deliveries: [] });
  const reply = rig.fake.responses.slice(before)[0]?.body as { text?: string } | undefined;
  // As a person reads it (slackify-markdown puts zero-width spaces around emphasis).
  expect(reply?.text?.replace(/\u200b/g, '')).toContain(expected.line);
});
