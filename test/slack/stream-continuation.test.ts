import { afterEach, describe, expect, it } from 'vitest';
import { type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const CHANNEL = 'C0GENERAL';
const bot = () => `<@${rig.fake.bot.userId}>`;
/**
 * Slack closes a stream left without appends for about 5 minutes (reported); the fake keeps the rule with
 * a shorter limit here, so fake time does not have to run through minutes.
 */
const IDLE_LIMIT_MS = 3000;
const LONG_PAUSE_MS = 4000;

describe('a native stream Slack stops accepting mid-answer', () => {
  it('continues after a long pause: the thread shows the whole answer exactly once, nothing left broken', async () => {
    const first = 'Part one, written before the slow tool ran.';
    const second = 'Part two, written after it finally returned.';
    const answer = `${first}\n\n${second}`;
    rig = await startRig({ fake: { streamIdleMs: IDLE_LIMIT_MS } });
    const hold = new Promise((resolve) => setTimeout(resolve, LONG_PAUSE_MS));
    rig.sim.script({ text: answer, chunkChars: first.length + 2, holdAfterChunks: 1, hold });
    const said = rig.say({ channel: CHANNEL, text: `${bot()} look it up` });
    await rig.deliver(said);

    expect(rig.fake.count('chat.appendStream', 'message_not_in_streaming_state')).toBe(1);
    const shown = rig.fake.thread(CHANNEL, said.ts).filter((m) => m.bot);
    // No message stays in Slack's broken "unfinished stream" state, none is still streaming.
    expect(shown.map((m) => [m.broken, m.streaming])).toEqual(shown.map(() => [false, false]));
    // Every word once, in order, as a person reads the thread top to bottom.
    expect(shown.map((m) => m.text.trim()).join('\n\n')).toBe(answer);
  });

  it('a stream that went idle after its last words is still finished cleanly when the answer ends', async () => {
    const answer = 'Everything was said before the model went quiet.';
    rig = await startRig({ fake: { streamIdleMs: IDLE_LIMIT_MS } });
    const hold = new Promise((resolve) => setTimeout(resolve, LONG_PAUSE_MS));
    // The whole text first, then a long silence before the stream ends (usage, a tool that returns nothing).
    rig.sim.script({ text: answer, chunkChars: answer.length, holdAfterChunks: 1, hold });
    const said = rig.say({ channel: CHANNEL, text: `${bot()} one line` });
    await rig.deliver(said);

    const shown = rig.fake.thread(CHANNEL, said.ts).filter((m) => m.bot);
    expect(shown.map((m) => [m.text.trim(), m.broken, m.streaming])).toEqual([[answer, false, false]]);
  });
});
