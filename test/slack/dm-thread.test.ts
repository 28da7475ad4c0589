import { afterEach, describe, expect, it } from 'vitest';
import { edited, eventBody } from '../support/fake-slack/index.ts';
import { BOB, botMention, botThreadReplies, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const CHANNEL = 'C0GENERAL';
const DM = 'D0ALICE';
const bot = () => botMention(rig);
const botReplies = (threadTs: string) => botThreadReplies(rig, CHANNEL, threadTs);
/** What the model was asked in its n-th request: every user/assistant text, in order. */
const promptTexts = (n: number) =>
  (rig.sim.chatRequests()[n]?.messages ?? [])
    .filter((m) => m.role !== 'system')
    .map((m) => String(m.content));

describe('direct messages', () => {
  it('answers every DM at the top level of the DM, without a mention', async () => {
    rig = await startRig({
      sim: { responder: (body) => `You said: ${JSON.stringify(body.messages.at(-1)?.content)}` },
    });
    const said = rig.say({ channel: DM, text: 'hello there' });
    await rig.deliver(said);
    const shown = rig.fake.channel(DM).filter((m) => m.bot);
    expect(shown.map((m) => m.text)).toEqual(['You said: "hello there"']);
    // A DM outside a thread cannot stream natively: post-and-update.
    expect(rig.fake.count('chat.startStream')).toBe(0);
    // DMs are one private conversation: no speaker names are mixed in.
    expect(promptTexts(0)).toEqual(['hello there']);
  });

  it('hands messages to the core in the order Slack sent them, even when a look-up is slow', async () => {
    rig = await startRig({ sim: { responder: () => 'ok' } });
    rig.fake.delayNext('users.info', 300);
    const one = rig.say({ channel: DM, text: 'one' });
    const two = rig.say({ channel: DM, text: 'two' });
    await rig.send.event(one.message);
    await rig.deliver(two);
    const asked = rig.sim.chatRequests().map((b) => String(b.messages.at(-1)?.content));
    expect(asked).toEqual(['one', 'two']);
  });

  it('keeps DM history to the DM and channel history to its thread', async () => {
    rig = await startRig({ sim: { responder: () => 'ok' } });
    await rig.deliver(rig.say({ channel: DM, text: 'my secret is 42' }));
    await rig.deliver(rig.say({ channel: CHANNEL, text: `${bot()} what is my secret?` }));
    expect(promptTexts(1).join(' ')).not.toContain('42');
  });
});

describe('threads', () => {
  it('answers later messages in a thread it is part of without a new mention, with the thread history', async () => {
    rig = await startRig();
    rig.sim.script({ text: 'Paris.' }, { text: 'About two million people.' });
    const first = rig.say({ channel: CHANNEL, text: `${bot()} capital of France?` });
    await rig.deliver(first);
    const follow = rig.say({ channel: CHANNEL, threadTs: first.ts, text: 'and how many people live there?' });
    expect(follow.mention).toBeUndefined();
    await rig.deliver(follow);
    expect(botReplies(first.ts)).toEqual(['Paris.', 'About two million people.']);
    expect(promptTexts(1)).toEqual([
      expect.stringContaining('capital of France?'),
      'Paris.',
      expect.stringContaining('and how many people live there?'),
    ]);
  });

  it('stays quiet in threads it is not part of, and everywhere without a mention', async () => {
    rig = await startRig({ sim: { responder: () => 'should not be said' } });
    const parent = rig.say({ channel: CHANNEL, user: BOB, text: 'lunch?' });
    await rig.deliver(parent);
    await rig.deliver(rig.say({ channel: CHANNEL, threadTs: parent.ts, text: 'sure, noon' }));
    expect(rig.sim.chatRequests()).toHaveLength(0);
    expect(rig.fake.calledMethods().has('chat.postMessage')).toBe(false);
  });

  it('does not follow threads when slack.followThreads is off', async () => {
    rig = await startRig({ config: { slack: { followThreads: false } }, sim: { responder: () => 'hi' } });
    const first = rig.say({ channel: CHANNEL, text: `${bot()} hi` });
    await rig.deliver(first);
    await rig.deliver(rig.say({ channel: CHANNEL, threadTs: first.ts, text: 'still there?' }));
    expect(botReplies(first.ts)).toEqual(['hi']);
  });

  it('answers a mention inside a followed thread once, though Slack sends it as app_mention and message', async () => {
    rig = await startRig();
    rig.sim.script({ text: 'First answer.' }, { text: 'Second answer.' }, { text: 'Never sent.' });
    const first = rig.say({ channel: CHANNEL, text: `${bot()} one` });
    await rig.deliver(first);
    const again = rig.say({ channel: CHANNEL, threadTs: first.ts, text: `${bot()} two` });
    expect(again.deliveries).toHaveLength(2);
    await rig.deliver(again);
    expect(botReplies(first.ts)).toEqual(['First answer.', 'Second answer.']);
    expect(rig.sim.chatRequests()).toHaveLength(2);
  });

  it('ignores edits, deletions and messages from bots', async () => {
    rig = await startRig({ sim: { responder: () => 'answer' } });
    const first = rig.say({ channel: CHANNEL, text: `${bot()} hi` });
    await rig.deliver(first);
    const noise = [
      edited(rig.fake, CHANNEL, first.ts, `${bot()} hi (edited)`),
      eventBody(rig.fake, {
        type: 'message',
        subtype: 'message_deleted',
        channel: CHANNEL,
        ts: rig.fake.ws.nextTs(),
        deleted_ts: first.ts,
      }),
      eventBody(rig.fake, {
        type: 'message',
        subtype: 'bot_message',
        bot_id: 'B0OTHER',
        text: `${bot()} beep`,
        channel: CHANNEL,
        ts: rig.fake.ws.nextTs(),
        thread_ts: first.ts,
      }),
      eventBody(rig.fake, {
        type: 'message',
        user: 'U0OTHERBOT',
        bot_id: 'B0OTHER',
        text: 'robot chatter',
        channel: CHANNEL,
        channel_type: 'channel',
        ts: rig.fake.ws.nextTs(),
        thread_ts: first.ts,
      }),
    ];
    for (const body of noise) expect((await rig.send.event(body)).status).toBe(200);
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    expect(rig.sim.chatRequests()).toHaveLength(1);
    expect(botReplies(first.ts)).toEqual(['answer']);
  });
});

describe('command names in the bot’s own lines', () => {
  it('a mention with nothing after it gets the hint spelled the Slack way', async () => {
    rig = await startRig({ sim: { responder: () => 'ok' } });
    const said = rig.say({ channel: DM, text: '   ' });
    await rig.deliver(said);
    const shown = rig.fake.channel(DM).filter((m) => m.bot);
    expect(shown.map((m) => m.text)).toEqual(['Ask me something after the mention, or try /qwen help.']);
  });
});
