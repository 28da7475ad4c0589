import { afterEach, describe, expect, it } from 'vitest';
import type { ChatBody } from '../support/dashscope-sim.ts';
import { BOB, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const lastUser = (b: ChatBody) => String(b.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '');

describe('several conversations at once', () => {
  it('answers two channels at the same time without cross-talk', async () => {
    rig = await startRig({
      sim: {
        responder: (b) =>
          lastUser(b).includes('apples') ? 'Apples are red or green.' : 'Bananas are yellow.',
      },
    });
    const bot = `<@${rig.fake.bot.userId}>`;
    // Slow, interleaved streams: both answers are in flight together.
    rig.sim.script({ chunkChars: 5, chunkDelayMs: 60 }, { chunkChars: 5, chunkDelayMs: 60 });
    const one = rig.say({ channel: 'C0ONE', text: `${bot} tell me about apples` });
    const two = rig.say({ channel: 'C0TWO', user: BOB, text: `${bot} tell me about bananas` });
    await Promise.all([rig.deliver(one), rig.deliver(two)]);

    const shown = (channel: string, ts: string) =>
      rig.fake
        .thread(channel, ts)
        .filter((m) => m.bot)
        .map((m) => m.text);
    expect(shown('C0ONE', one.ts)).toEqual(['Apples are red or green.']);
    expect(shown('C0TWO', two.ts)).toEqual(['Bananas are yellow.']);
    const prompts = rig.sim.chatRequests().map((b) => JSON.stringify(b.messages));
    expect(prompts).toHaveLength(2);
    expect(prompts.filter((p) => p.includes('apples') && p.includes('bananas'))).toHaveLength(0);
    // The two streams overlapped in time and shared the workspace budget without a 429.
    expect(rig.fake.calls.filter((c) => c.outcome === 'ratelimited')).toHaveLength(0);
  });
});
