import { afterEach, describe, expect, it } from 'vitest';
import { type Rig, startRig, threadText } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const CHANNEL = 'C0GENERAL';

describe('Slack tiers kept on the bot’s side', () => {
  it('24 threads answered at once: 20 streams (chat.startStream’s tier), the rest post-and-update, no 429', async () => {
    const answer = 'Every thread gets its whole answer, streamed or posted.';
    rig = await startRig({ config: { guards: { userMessagesPerWindow: 100 } } });
    rig.sim.setResponder(() => answer);
    const mention = `<@${rig.fake.bot.userId}>`;
    const said = Array.from({ length: 24 }, (_, i) =>
      rig.say({ channel: CHANNEL, text: `${mention} q${i}` }),
    );
    await Promise.all(said.map((s) => rig.deliver(s)));
    for (const s of said) expect(threadText(rig, CHANNEL, s.ts).replace(/\s+/g, ' ')).toContain(answer);
    expect(rig.fake.calls.filter((c) => c.outcome === 'ratelimited').map((c) => c.method)).toEqual([]);
    expect(rig.fake.count('chat.startStream')).toBe(20);
    // Streams slowed by the shared append budget get a Stop control once they have run a few seconds
    // (a message holding only the button), removed when they end; the other posts are the 4 answers.
    const isControl = (blocks: unknown) =>
      Array.isArray(blocks) && blocks.length === 1 && (blocks[0] as { type?: string }).type === 'actions';
    const posts = rig.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.outcome === 'ok');
    expect(posts.filter((c) => !isControl(c.params.blocks))).toHaveLength(4);
    expect(rig.fake.count('chat.delete')).toBe(posts.filter((c) => isControl(c.params.blocks)).length);
    for (const s of said) expect(rig.fake.thread(CHANNEL, s.ts).flatMap((m) => m.buttons)).toEqual([]);
  });
});
