import { afterEach, describe, expect, it } from 'vitest';
import { pressButton } from '../support/fake-slack/index.ts';
import { until } from '../support/fake-time.ts';
import { ADMIN, ALICE, BOB, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const CHANNEL = 'C0GENERAL';
const STOP = '⏹️ Stop';
const FIRST = 'The first part was written before anyone pressed Stop.';
const REST = ' The rest would have followed.';

/** An answer that writes FIRST, then waits until `release` before the rest. */
function heldAnswer(): { release: () => void } {
  let release: () => void = () => undefined;
  const hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  rig.sim.script({ text: FIRST + REST, chunkChars: FIRST.length, holdAfterChunks: 1, hold });
  return { release };
}

const botMessages = (threadTs: string) => rig.fake.thread(CHANNEL, threadTs).filter((m) => m.bot);

/** Starts an answer in a thread and waits until the Stop button shows (on the answer or under it). */
async function askAndWaitForStop(): Promise<{ threadTs: string; done: Promise<void>; stopTs: string }> {
  const said = rig.say({ channel: CHANNEL, text: `<@${rig.fake.bot.userId}> tell me` });
  const done = rig.deliver(said);
  const withStop = await until(
    () =>
      botMessages(said.ts).some((m) => m.text.includes('first part')) &&
      botMessages(said.ts).find((m) => m.buttons.includes(STOP)),
    'the Stop button',
  );
  return { threadTs: said.ts, done, stopTs: withStop.ts };
}

async function press(user: string, stopTs: string, mode: 'http' | 'socket' = 'http'): Promise<void> {
  const payload = pressButton(rig.fake, { user, channel: CHANNEL, ts: stopTs, label: STOP });
  if (mode === 'socket') {
    await rig.settle(rig.fake.socket.deliverInteraction(payload), 'the button press to be acked');
    return;
  }
  const res = await rig.settle(rig.send.interaction(payload), 'the button press to be acked');
  expect(res.status).toBe(200);
}

describe('Stop on Slack', () => {
  it('native stream: the asker presses Stop; the text written stays, with "stopped by", and the button goes', async () => {
    rig = await startRig();
    heldAnswer();
    const { threadTs, done, stopTs } = await askAndWaitForStop();
    // The streamed answer, and the control with the button under it.
    expect(botMessages(threadTs).map((m) => [m.format, m.streaming, m.buttons])).toEqual([
      ['markdown', true, []],
      ['mrkdwn', false, [STOP]],
    ]);
    await press(ALICE, stopTs);
    await done;
    expect(botMessages(threadTs).map((m) => [m.text, m.streaming, m.buttons])).toEqual([
      [`${FIRST}\n\n⏹️ Stopped by Alice.`, false, []],
    ]);
  });

  it('works the same in Socket Mode (interactivity over the socket)', async () => {
    rig = await startRig({ mode: 'socket' });
    heldAnswer();
    const { threadTs, done, stopTs } = await askAndWaitForStop();
    await press(ALICE, stopTs, 'socket');
    await done;
    expect(botMessages(threadTs).map((m) => [m.text, m.buttons])).toEqual([
      [`${FIRST}\n\n⏹️ Stopped by Alice.`, []],
    ]);
  });

  it('someone else is refused privately and the answer goes on to the end; an admin may stop it', async () => {
    rig = await startRig();
    const { release } = heldAnswer();
    const { threadTs, done, stopTs } = await askAndWaitForStop();
    await press(BOB, stopTs);
    await rig.settle(
      until(() => rig.fake.ws.ephemerals.find((e) => e.user === BOB), 'the refusal'),
      'the refusal',
    );
    expect(rig.fake.ws.ephemerals.map((e) => [e.user, e.text, e.visible])).toEqual([
      [
        BOB,
        'This answer cannot be stopped: it has finished, or only the asker or a moderator may stop it.',
        true,
      ],
    ]);
    release();
    await done;
    expect(botMessages(threadTs).map((m) => [m.text, m.buttons])).toEqual([[FIRST + REST, []]]);

    // A workspace admin (users.info) may stop someone else's answer.
    heldAnswer();
    const second = await askAndWaitForStop();
    await press(ADMIN, second.stopTs);
    await second.done;
    expect(botMessages(second.threadTs).map((m) => m.text)).toEqual([`${FIRST}\n\n⏹️ Stopped by Ada.`]);
  });

  it('post-and-update: the button is on the answer itself (chat.update with blocks) and leaves with the last edit', async () => {
    rig = await startRig();
    // Streams throttled: this answer is posted and updated.
    rig.fake.rateLimitNext('chat.startStream', 30);
    heldAnswer();
    const { threadTs, done, stopTs } = await askAndWaitForStop();
    expect(botMessages(threadTs).map((m) => [m.ts === stopTs, m.text, m.buttons])).toEqual([
      [true, FIRST, [STOP]],
    ]);
    await press(ALICE, stopTs);
    await done;
    expect(botMessages(threadTs).map((m) => [m.format, m.text, m.buttons])).toEqual([
      ['mrkdwn', `${FIRST}\n\n⏹️ Stopped by Alice.`, []],
    ]);
  });
});
