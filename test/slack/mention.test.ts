import { afterEach, describe, expect, it } from 'vitest';
import { ALICE, type Rig, startRig, threadText } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

describe('a mention in a channel', () => {
  it('is answered in a thread under the message, streamed natively to the full answer', async () => {
    const answer =
      'The capital of France is Paris. It has been the capital for centuries and sits on the Seine.';
    rig = await startRig({ sim: { responder: () => answer } });
    rig.sim.script({ text: answer, chunkChars: 8, chunkDelayMs: 40 });
    const said = rig.say({
      channel: 'C0GENERAL',
      text: `<@${rig.fake.bot.userId}> what is the capital of France?`,
    });
    await rig.deliver(said);

    const replies = rig.fake.thread('C0GENERAL', said.ts).filter((m) => m.bot);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text).toBe(answer);
    expect(replies[0]?.streaming).toBe(false);
    expect(replies[0]?.appends).toBeGreaterThan(1);
    expect(rig.fake.count('chat.startStream')).toBe(1);
    expect(rig.fake.count('chat.stopStream')).toBe(1);
    expect(rig.fake.channel('C0GENERAL').filter((m) => m.bot)).toHaveLength(0);
    // The model saw the question without the bot's mention, with the asker's name.
    const prompt = JSON.stringify(rig.sim.chatRequests()[0]?.messages);
    expect(prompt).toContain('what is the capital of France?');
    expect(prompt).not.toContain(rig.fake.bot.userId);
    expect(threadText(rig, 'C0GENERAL', said.ts)).toBe(answer);
    expect(ALICE).toBeTruthy();
  });
});
