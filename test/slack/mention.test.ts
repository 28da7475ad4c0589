import { afterEach, describe, expect, it } from 'vitest';
import { t } from '../../src/i18n.ts';
import { type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const CHANNEL = 'C0GENERAL';
const bot = () => `<@${rig.fake.bot.userId}>`;
const botReplies = (threadTs: string) => rig.fake.thread(CHANNEL, threadTs).filter((m) => m.bot);

describe('a mention in a channel', () => {
  it('is answered in a thread under the message, streamed natively to the full answer', async () => {
    const answer =
      'The capital of France is Paris. It has been the capital for centuries and sits on the Seine.';
    rig = await startRig();
    rig.sim.script({ text: answer, chunkChars: 8, chunkDelayMs: 120 });
    const said = rig.say({ channel: CHANNEL, text: `${bot()} what is the capital of France?` });
    await rig.deliver(said);

    const replies = botReplies(said.ts);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text).toBe(answer);
    expect(replies[0]?.streaming).toBe(false);
    // Streamed in several appends, not one final post.
    expect(replies[0]?.appends).toBeGreaterThan(1);
    expect(rig.fake.count('chat.startStream')).toBe(1);
    expect(rig.fake.count('chat.stopStream')).toBe(1);
    expect(rig.fake.count('chat.postMessage')).toBe(0);
    // "is thinking…" was shown, and the reply cleared it.
    expect(rig.fake.count('assistant.threads.setStatus')).toBeGreaterThanOrEqual(1);
    expect(rig.fake.status(CHANNEL, said.ts)).toBeUndefined();
    // Nothing was posted at the channel's top level.
    expect(rig.fake.channel(CHANNEL).filter((m) => m.bot)).toHaveLength(0);
    // The model read the question without the bot's mention, with the asker's name.
    const prompt = JSON.stringify(rig.sim.chatRequests()[0]?.messages);
    expect(prompt).toContain('what is the capital of France?');
    expect(prompt).toContain('Alice');
    expect(prompt).not.toContain(rig.fake.bot.userId);
  });

  it('falls back to post-and-update when Slack refuses to start the stream', async () => {
    const answer = 'Fallback answer: streamed through chat.postMessage and chat.update instead.';
    rig = await startRig();
    rig.fake.failNext('chat.startStream', 'message_not_in_streaming_state');
    rig.sim.script({ text: answer, chunkChars: 6, chunkDelayMs: 150 });
    const said = rig.say({ channel: CHANNEL, text: `${bot()} tell me something` });
    await rig.deliver(said);

    const replies = botReplies(said.ts);
    expect(replies.map((m) => m.text)).toEqual([answer]);
    expect(replies[0]?.format).toBe('mrkdwn');
    expect(replies[0]?.updates).toBeGreaterThanOrEqual(1);
    expect(rig.fake.count('chat.postMessage')).toBe(1);
  });

  it('continues with post-and-update when the stream breaks midway, losing nothing', async () => {
    const answer = `${'First part of the answer, already streamed. '.repeat(3)}Then the rest arrives after the stream broke.`;
    rig = await startRig();
    rig.fake.failNext('chat.appendStream', 'streaming_state_conflict');
    rig.sim.script({ text: answer, chunkChars: 10, chunkDelayMs: 120 });
    const said = rig.say({ channel: CHANNEL, text: `${bot()} long one please` });
    await rig.deliver(said);

    const replies = botReplies(said.ts);
    expect(replies.length).toBe(2);
    expect(replies[0]?.format).toBe('markdown');
    expect(replies[0]?.streaming).toBe(false);
    expect(replies[1]?.format).toBe('mrkdwn');
    // Two messages read one after the other: the first is the start of the answer, the second the rest
    // (Slack trims the space at the seam), so together they carry every word exactly once.
    expect(answer.startsWith(replies[0]?.text ?? '-')).toBe(true);
    const squash = (s: string) => s.replace(/\s+/g, '');
    expect(squash(replies.map((m) => m.text).join(''))).toBe(squash(answer));
  });

  it('answers a mention inside an existing thread in that thread', async () => {
    rig = await startRig({ sim: { responder: () => 'In the thread.' } });
    const parent = rig.say({ channel: CHANNEL, user: 'U0BOB', text: 'Planning the offsite' });
    const said = rig.say({ channel: CHANNEL, threadTs: parent.ts, text: `${bot()} any ideas?` });
    await rig.deliver(said);
    expect(botReplies(parent.ts).map((m) => m.text)).toEqual(['In the thread.']);
    expect(botReplies(said.ts)).toHaveLength(0);
  });

  it('ends with the partial text and a clear error line when the model fails mid-stream', async () => {
    rig = await startRig();
    const full = 'Part one of the answer, part two of the answer, part three.';
    rig.sim.script({
      text: full,
      chunkChars: 10,
      chunkDelayMs: 20,
      errorAfterChunks: 3,
      errorFrame: { code: 'internal_error', message: 'backend exploded', type: 'internal_error' },
    });
    const said = rig.say({ channel: CHANNEL, text: `${bot()} explain` });
    await rig.deliver(said);
    const text = botReplies(said.ts)
      .map((m) => m.text)
      .join('');
    // Three chunks of ten characters reached Slack before the error frame.
    expect(text).toBe(`${full.slice(0, 30)}\n\n⚠️ ${t('en', 'error.server')}`);
  });
});
