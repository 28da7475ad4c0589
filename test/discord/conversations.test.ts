/**
 * Which conversation a Discord message belongs to, end to end: threads and DMs are their own
 * conversations, channels answer in parallel without cross-talk, and image turns go to the vision model.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lastUserText, SIM_MODERATION_REFUSAL } from '../support/dashscope-sim.ts';
import { tinyPng } from '../support/tiny-png.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  // The model repeats the question, so each answer shows which prompt it came from.
  h = await startDiscordHarness({
    sim: { responder: (body) => `You said: ${lastUserText(body)}` },
    // Below the core's own image limit, so the download limit is what stops an oversized file.
    config: { discord: { maxAttachmentBytes: 1024 * 1024 } },
  });
});
afterAll(async () => {
  await h?.close();
});

function promptOf(i: number): string {
  return JSON.stringify(h.sim.chatRequests()[i]?.messages ?? []);
}

test('a thread is its own conversation; the bot answers mentions inside it', async () => {
  const parent = h.fake.addChannel(h.guild, 'projects');
  let turn = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: parent.id, content: h.mention('the channel codeword is MAPLE') });
  await turn;

  const thread = h.fake.createThread(parent, 'side topic', h.bob);
  turn = h.expectTurns(1);
  const asked = h.fake.say({
    author: h.bob,
    channelId: thread.id,
    content: h.mention('the thread codeword is CEDAR'),
  });
  const [outcome] = await turn;
  expect(outcome?.status).toBe('answered');
  const threadPrompt = promptOf(h.sim.chatRequests().length - 1);
  expect(threadPrompt).toContain('CEDAR');
  expect(threadPrompt).not.toContain('MAPLE');
  const reply = h.fake.botMessages(thread.id)[0];
  expect(reply?.message_reference?.message_id).toBe(asked.id);
  expect(reply?.content).toContain('CEDAR');
  // Nothing was posted in the parent channel for the thread's question.
  expect(h.fake.botMessages(parent.id)).toHaveLength(1);

  // Back in the channel, the thread's words are not part of its history.
  turn = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: parent.id, content: h.mention('what was the codeword?') });
  await turn;
  const channelPrompt = promptOf(h.sim.chatRequests().length - 1);
  expect(channelPrompt).toContain('MAPLE');
  expect(channelPrompt).not.toContain('CEDAR');
});

test('every DM is answered without a mention, and a DM never reaches a channel prompt', async () => {
  let turn = h.expectTurns(1);
  const dm = h.fake.dm(h.alice, 'my secret is PINEAPPLE');
  const [outcome] = await turn;
  expect(outcome?.status).toBe('answered');
  const dmChannel = h.fake.dmChannel(h.alice);
  const reply = h.fake.botMessages(dmChannel.id)[0];
  expect(reply?.content).toContain('PINEAPPLE');
  expect(reply?.message_reference?.message_id).toBe(dm.id);
  expect(reply?.guild_id).toBeUndefined();

  const channel = h.fake.addChannel(h.guild, 'public');
  turn = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('what is my secret?') });
  await turn;
  expect(promptOf(h.sim.chatRequests().length - 1)).not.toContain('PINEAPPLE');

  // Bob's DM is a different conversation from Alice's.
  turn = h.expectTurns(1);
  h.fake.dm(h.bob, 'what did alice tell you?');
  await turn;
  expect(promptOf(h.sim.chatRequests().length - 1)).not.toContain('PINEAPPLE');
});

test('two channels answer at once without cross-talk', async () => {
  const a = h.fake.addChannel(h.guild, 'alpha');
  const b = h.fake.addChannel(h.guild, 'beta');
  const long = (tag: string) => `${tag} `.repeat(60).trim();
  h.sim.script(
    { text: long('ALPHA'), chunkChars: 12, chunkDelayMs: 60 },
    { text: long('BETA'), chunkChars: 12, chunkDelayMs: 60 },
  );
  const turn = h.expectTurns(2);
  const started = Date.now();
  h.fake.say({ author: h.alice, channelId: a.id, content: h.mention('first') });
  h.fake.say({ author: h.bob, channelId: b.id, content: h.mention('second') });
  const outcomes = await turn;
  const elapsed = Date.now() - started;
  expect(outcomes.map((o) => o.status)).toEqual(['answered', 'answered']);
  const [ra] = h.fake.botMessages(a.id);
  const [rb] = h.fake.botMessages(b.id);
  // Whichever request the simulator answered first, each channel shows one answer, whole and unmixed.
  const texts = [ra?.content, rb?.content].sort();
  expect(texts).toEqual([long('ALPHA'), long('BETA')]);
  for (const m of [ra, rb])
    for (const state of m?.history ?? []) expect(state).not.toMatch(/ALPHA.*BETA|BETA.*ALPHA/);
  // They streamed in parallel: both were being edited during the same stretch of time.
  const editsA = h.editsOf(a.id, ra?.id ?? '');
  const editsB = h.editsOf(b.id, rb?.id ?? '');
  expect(editsA.length).toBeGreaterThanOrEqual(2);
  expect(editsB.length).toBeGreaterThanOrEqual(2);
  expect(Math.abs((editsA[0]?.at ?? 0) - (editsB[0]?.at ?? 0))).toBeLessThan(1500);
  // 60 chunks at 60 ms each, twice in a row, would take over 7 s.
  expect(elapsed).toBeLessThan(6500);
  expect(h.fake.rateLimited).toBe(0);
});

test('an image turn is answered by the vision model, and the reply says so', async () => {
  const png = tinyPng(16, 16);
  const file = h.fake.addFile('chart.png', png, 'image/png');
  const channel = h.fake.addChannel(h.guild, 'images');
  h.sim.script({ text: 'The chart shows a grey square.' });
  const turn = h.expectTurns(1);
  h.fake.say({
    author: h.alice,
    channelId: channel.id,
    content: h.mention('what is in this picture?'),
    attachments: [file],
  });
  const [outcome] = await turn;
  expect(outcome?.status).toBe('answered');
  const req = h.sim.chatRequests().at(-1);
  expect(req?.model).toBe(h.config.qwen.visionModel);
  expect(h.config.models[h.config.qwen.defaultModel]?.vision).toBe(false);
  const user = req?.messages.filter((m) => m.role === 'user').at(-1);
  const parts = user?.content as Array<{ type: string; image_url?: { url: string } }>;
  const image = parts.find((p) => p.type === 'image_url');
  expect(image?.image_url?.url).toBe(`data:image/png;base64,${Buffer.from(png).toString('base64')}`);
  const reply = h.fake.botMessages(channel.id)[0];
  expect(reply?.content.startsWith('The chart shows a grey square.')).toBe(true);
  expect(reply?.content).toContain(`(answered by ${h.config.qwen.visionModel}, which can see images)`);
});

test('an image over the size limit is skipped with a note and never downloaded', async () => {
  const big = new Uint8Array(h.config.attachments.maxImageBytes + 1);
  big.set(tinyPng(16, 16));
  const file = h.fake.addFile('huge.png', big, 'image/png');
  const channel = h.fake.addChannel(h.guild, 'big-files');
  h.sim.script({ text: 'I could not look at that file.' });
  const turn = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('look'), attachments: [file] });
  await turn;
  expect(h.sim.chatRequests().at(-1)?.model).toBe(h.config.qwen.defaultModel);
  expect(h.fake.botMessages(channel.id)[0]?.content).toContain('huge.png');
  expect(h.fake.state.files.get(file.id)?.downloads).toBe(0);
});

test('an attachment whose reported size lies is cut off at the download limit', async () => {
  const limit = h.config.discord.maxAttachmentBytes;
  expect(limit).toBeLessThan(h.config.attachments.maxImageBytes);
  const big = new Uint8Array(limit * 2);
  big.set(tinyPng(16, 16));
  const file = h.fake.addFile('sneaky.png', big, 'image/png', 2048);
  const channel = h.fake.addChannel(h.guild, 'sneaky-files');
  h.sim.script({ text: 'No image for me.' });
  const turn = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('look'), attachments: [file] });
  await turn;
  const req = h.sim.chatRequests().at(-1);
  expect(JSON.stringify(req?.messages)).not.toContain('data:image');
  expect(h.fake.botMessages(channel.id)[0]?.content).toContain('sneaky.png');
  expect(h.fake.state.files.get(file.id)?.downloads).toBe(1);
});

test('a server whose preferred locale is Chinese gets the bot’s lines in Chinese', async () => {
  const guild = h.fake.addGuild('中文服务器', { preferredLocale: 'zh-CN' });
  h.fake.addMember(guild, h.alice);
  const channel = h.fake.addChannel(guild, 'general');
  h.sim.script({
    error: SIM_MODERATION_REFUSAL,
  });
  const turn = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('你好') });
  const [outcome] = await turn;
  expect(outcome?.status).toBe('error');
  expect(h.fake.botMessages(channel.id)[0]?.content).toBe('⚠️ 服务方拒绝了此请求（内容审核）。');
});
