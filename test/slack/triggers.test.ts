/**
 * Triggers on Slack, end to end through Bolt: `/qwen channel mode all` (every message a person writes in
 * the channel and its threads is answered, bots' are not), the parent of a thread the bot is pulled
 * into as reply context, and one answer for back-to-back messages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventBody, type Said, slash } from '../support/fake-slack/index.ts';
import { ADMIN, ALICE, BOB, botMention, botThreadReplies, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const CHANNEL = 'C0GENERAL';
const DM = 'D0ALICE';
const bot = () => botMention(rig);
const botReplies = (threadTs: string) => botThreadReplies(rig, CHANNEL, threadTs);

/** Runs `/qwen <text>` in the channel and returns what Slack shows the person. */
async function command(text: string, user = ADMIN): Promise<string> {
  const before = rig.fake.responses.length;
  await rig.send.command(slash(rig.fake, { user, channel: CHANNEL, text }));
  await rig.deliver({ ts: '', message: {}, deliveries: [] });
  const reply = rig.fake.responses.slice(before)[0]?.body as { text?: string } | undefined;
  return (reply?.text ?? '').replace(/\u200b/g, '');
}

/** Sends the message's events (acknowledged by Bolt) without waiting for the answer. */
async function post(said: Said): Promise<void> {
  await rig.settle(
    Promise.all(said.deliveries.map((body) => rig.send.event(body))),
    'the events to be acknowledged',
  );
}

describe('/qwen channel mode all', () => {
  it('answers a message without a mention, in a thread under it; a bot’s message is not answered', async () => {
    rig = await startRig({ sim: { responder: () => 'Rotate them with logrotate.' } });
    expect(await command('channel')).toBe('Here the bot answers only when mentioned or replied to.');
    expect(await command('channel mode all')).toBe(
      'From now on, here the bot answers every message, not only mentions.',
    );
    const asked = rig.say({ channel: CHANNEL, text: 'how do I rotate the logs?' });
    await rig.deliver(asked);
    expect(botReplies(asked.ts)).toEqual(['Rotate them with logrotate.']);
    expect(JSON.stringify(rig.sim.chatRequests().at(-1)?.messages)).toContain('how do I rotate the logs?');

    const fromBot = rig.say({ channel: CHANNEL, text: 'deploy 42 finished' });
    const event = (fromBot.message as { event: Record<string, unknown> }).event;
    await rig.deliver({
      ...fromBot,
      deliveries: [
        eventBody(rig.fake, { ...event, user: undefined, bot_id: 'B0DEPLOY', subtype: 'bot_message' }),
      ],
    });
    expect(rig.sim.chatRequests()).toHaveLength(1);
    expect(botReplies(fromBot.ts)).toEqual([]);
  });

  it('a thread follows its channel unless set in the thread; only admins set it', async () => {
    rig = await startRig({ sim: { responder: () => 'ok' } });
    expect(await command('channel mode all', ALICE)).toBe('Only admins can use /qwen channel here.');
    const parent = rig.say({ channel: CHANNEL, user: BOB, text: 'release notes draft' });
    await rig.deliver(parent);
    expect(rig.sim.chatRequests()).toHaveLength(0);

    await command('channel mode all');
    const reply = rig.say({ channel: CHANNEL, threadTs: parent.ts, text: 'looks good to me' });
    await rig.deliver(reply);
    expect(botReplies(parent.ts)).toEqual(['ok']);

    // Typed in the thread by an admin: only this thread goes back to mentions.
    await rig.deliver(
      rig.say({
        channel: CHANNEL,
        user: ADMIN,
        threadTs: parent.ts,
        text: `${bot()} /channel mode mentions`,
      }),
    );
    expect(botReplies(parent.ts).at(-1)).toBe(
      'From now on, here the bot answers only when mentioned or replied to.',
    );
    await rig.deliver(rig.say({ channel: CHANNEL, threadTs: parent.ts, text: 'one more thing' }));
    expect(rig.sim.chatRequests()).toHaveLength(1);
    expect(await command('channel')).toBe('Here the bot answers every message, not only mentions.');
  });
});

describe('reply context', () => {
  it('the first mention in a thread of other people brings the thread’s first message into the turn', async () => {
    rig = await startRig({ sim: { responder: () => 'Raise the memory limit.' } });
    const report = rig.say({ channel: CHANNEL, user: BOB, text: 'the deploy failed with OOM' });
    await rig.deliver(report);
    const asked = rig.say({
      channel: CHANNEL,
      threadTs: report.ts,
      text: `${bot()} what do you think of this?`,
    });
    await rig.deliver(asked);
    expect(botReplies(report.ts)).toEqual(['Raise the memory limit.']);
    const user = rig.sim
      .chatRequests()[0]
      ?.messages.filter((m) => m.role === 'user')
      .at(-1);
    expect(String(user?.content)).toBe(
      'Alice: Bob wrote:\n> the deploy failed with OOM\n\nwhat do you think of this?',
    );
    const turns = await rig.app.service.history.load(`slack:${rig.fake.team.id}:${CHANNEL}:${report.ts}`);
    expect(turns[0]?.text).toBe('Bob wrote:\n> the deploy failed with OOM\n\nwhat do you think of this?');

    // The bot follows the thread now: its history is the context, the parent is not quoted again.
    await rig.deliver(rig.say({ channel: CHANNEL, threadTs: report.ts, text: `${bot()} and then?` }));
    expect(rig.fake.count('conversations.replies')).toBe(1);
    const again = rig.sim
      .chatRequests()[1]
      ?.messages.filter((m) => m.role === 'user')
      .at(-1);
    expect(String(again?.content)).toBe('Alice: and then?');
  });
});

describe('debounce', () => {
  it('two quick messages get one answer with both texts; a message after the window gets its own', async () => {
    rig = await startRig({
      config: { triggers: { debounceMs: 1500 } },
      sim: { responder: (body) => `answer ${body.messages.filter((m) => m.role === 'user').length}` },
    });
    await post(rig.say({ channel: DM, text: 'my build fails' }));
    await rig.deliver(rig.say({ channel: DM, text: 'with exit code 137' }));
    expect(
      rig.fake
        .channel(DM)
        .filter((m) => m.bot)
        .map((m) => m.text),
    ).toEqual(['answer 1']);
    expect(String(rig.sim.chatRequests()[0]?.messages.at(-1)?.content)).toBe(
      'my build fails\nwith exit code 137',
    );

    await rig.deliver(rig.say({ channel: DM, text: 'fixed, thanks' }));
    expect(
      rig.fake
        .channel(DM)
        .filter((m) => m.bot)
        .map((m) => m.text),
    ).toEqual(['answer 1', 'answer 2']);
    expect(rig.sim.chatRequests()).toHaveLength(2);
  });
});
