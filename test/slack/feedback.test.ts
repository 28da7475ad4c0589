/**
 * 👍 / 👎 on Slack, end to end through Bolt and the fake Slack: Slack's feedback buttons at the end of
 * a streamed and of a posted answer (none under errors), the private acknowledgement, changing a vote,
 * the 👎 reason modal, the Block Kit fallback, admins' /usage, /forget, the counter and the manifest.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INTERACTIVITY } from '../../adapters/slack/capabilities.ts';
import type { ConversationRef } from '../../src/core/types.ts';
import { SIM_MODERATION_REFUSAL } from '../support/dashscope-sim.ts';
import { pressFeedback, slash, submitView } from '../support/fake-slack/index.ts';
import { ADMIN, ALICE, BOB, type Rig, type RigOptions, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const CHANNEL = 'C0GENERAL';
const DM = 'D0ALICE';
const bot = () => `<@${rig.fake.bot.userId}>`;

async function start(options: RigOptions = {}) {
  rig = await startRig({ sim: { responder: () => 'A fine answer.' }, ...options });
}

/** Alice mentions the bot in the channel; returns the thread and the answer's (last) message. */
async function askInChannel(text = 'hello') {
  const said = rig.say({ channel: CHANNEL, text: `${bot()} ${text}` });
  await rig.deliver(said);
  const answer = rig.fake
    .thread(CHANNEL, said.ts)
    .filter((m) => m.bot)
    .at(-1);
  if (!answer) throw new Error('no answer');
  return { thread: said.ts, answer };
}

/** A person presses a button; waits until the bot is done with it (ack, then the work after it). */
async function interact(payload: Record<string, unknown>) {
  const res = await rig.settle(rig.send.interaction(payload), 'the interaction to be acked');
  expect(res.status).toBe(200);
  await rig.deliver({ ts: '', message: {}, deliveries: [] });
}

function press(user: string, channel: string, ts: string, emoji: '👍' | '👎') {
  return interact(pressFeedback(rig.fake, { user, channel, ts, emoji }));
}

const ephemeralsTo = (user: string) => rig.fake.ws.ephemerals.filter((e) => e.user === user);

async function command(text: string, user: string) {
  const before = rig.fake.responses.length;
  await rig.send.command(slash(rig.fake, { user, channel: DM, text }));
  await rig.deliver({ ts: '', message: {}, deliveries: [] });
  return String(rig.fake.responses.slice(before)[0]?.body.text ?? '').replace(/\u200b/g, '');
}

const threadRef = (thread: string): ConversationRef => ({
  platform: 'slack',
  workspace: rig.fake.team.id,
  channel: CHANNEL,
  thread,
  isDM: false,
});

async function counter(vote: 'up' | 'down'): Promise<number> {
  const text = await rig.app.metrics.registry.metrics();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`qwenbot_feedback_total{platform="slack",model="qwen-plus",vote="${vote}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const FEEDBACK_BLOCK = {
  type: 'context_actions',
  elements: [
    {
      type: 'feedback_buttons',
      action_id: 'qwenbot_feedback',
      positive_button: {
        text: { type: 'plain_text', text: '👍', emoji: true },
        accessibility_label: 'Good answer',
        value: 'up:qwen-plus',
      },
      negative_button: {
        text: { type: 'plain_text', text: '👎', emoji: true },
        accessibility_label: 'Bad answer',
        value: 'down:qwen-plus',
      },
    },
  ],
};

describe('feedback buttons on Slack', () => {
  it('a streamed answer ends with Slack’s feedback buttons; a posted one too; an error gets none', async () => {
    await start();
    const { answer } = await askInChannel();
    expect(answer.format).toBe('markdown'); // a native stream, ended with chat.stopStream
    expect(answer.text).toBe('A fine answer.');
    expect(answer.blocks).toEqual([FEEDBACK_BLOCK]);
    const stop = rig.fake.calls.find((c) => c.method === 'chat.stopStream');
    expect(stop?.params.blocks).toEqual([FEEDBACK_BLOCK]);

    // A DM outside a thread is answered by post-and-update: the answer shows in a section above the buttons.
    await rig.deliver(rig.say({ channel: DM, text: 'hello there' }));
    const posted = rig.fake
      .channel(DM)
      .filter((m) => m.bot)
      .at(-1);
    expect(posted?.text).toBe('A fine answer.');
    expect(posted?.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: 'A fine answer.' } },
      FEEDBACK_BLOCK,
    ]);

    rig.sim.script({
      error: SIM_MODERATION_REFUSAL,
    });
    await rig.deliver(rig.say({ channel: DM, text: 'something refused' }));
    const failed = rig.fake
      .channel(DM)
      .filter((m) => m.bot)
      .at(-1);
    expect(failed?.text).toContain('declined');
    expect(failed?.blocks).toEqual([]);
  });

  it('a press is stored and acknowledged only to the presser; a second press changes the one vote; 👎 asks why', async () => {
    await start();
    const { thread, answer } = await askInChannel('rate me');
    const feedback = rig.app.service.feedback;

    await press(ALICE, CHANNEL, answer.ts, '👍');
    expect(ephemeralsTo(ALICE).at(-1)).toMatchObject({
      channel: CHANNEL,
      threadTs: thread,
      text: 'Thanks for the 👍 — noted (only you see this).',
      visible: true,
    });
    expect(ephemeralsTo(BOB)).toEqual([]);
    expect(await feedback.get(threadRef(thread), answer.ts, ALICE)).toMatchObject({
      conversation: `slack:${rig.fake.team.id}:${CHANNEL}:${thread}`,
      answerId: answer.ts,
      model: 'qwen-plus',
      vote: 'up',
    });
    expect(await counter('up')).toBe(1);

    await press(ALICE, CHANNEL, answer.ts, '👎');
    expect(rig.fake.count('views.open')).toBe(1);
    const modal = rig.fake.ws.views.at(-1)?.view as { title?: { text?: string } };
    expect(modal.title?.text).toBe('What went wrong?');
    expect(await feedback.get(threadRef(thread), answer.ts, ALICE)).toMatchObject({ vote: 'down' });
    expect(await counter('down')).toBe(1);
    expect((await feedback.shares('slack', rig.fake.team.id)).find((s) => s.model === 'qwen-plus')).toEqual({
      model: 'qwen-plus',
      up: 0,
      down: 1,
    });

    await interact(submitView(rig.fake, { user: ALICE, values: { reason: 'Too vague.' } }));
    expect(ephemeralsTo(ALICE).at(-1)?.text).toBe('Thanks — your 👎 and its reason are noted.');
    expect(await feedback.get(threadRef(thread), answer.ts, ALICE)).toMatchObject({
      vote: 'down',
      reason: 'Too vague.',
    });
    // Nothing was posted in the channel for any of it.
    expect(rig.fake.thread(CHANNEL, thread).filter((m) => m.bot)).toHaveLength(1);
  });

  it('a 👎 whose form cannot open in time (the trigger expired) still counts and is acknowledged', async () => {
    await start();
    const { thread, answer } = await askInChannel();
    rig.fake.delayNext('views.open', 3500);
    await press(ALICE, CHANNEL, answer.ts, '👎');
    expect(rig.fake.count('views.open', 'expired_trigger_id')).toBe(1);
    expect(await rig.app.service.feedback.get(threadRef(thread), answer.ts, ALICE)).toMatchObject({
      vote: 'down',
    });
    expect(ephemeralsTo(ALICE).at(-1)?.text).toBe('Thanks for the 👎 — noted (only you see this).');
  });

  it('a workspace that refuses the feedback buttons block gets Block Kit buttons, which work the same', async () => {
    await start({ fake: { refuseContextActions: true } });
    const { thread, answer } = await askInChannel();
    expect(answer.text).toBe('A fine answer.');
    const actions = answer.blocks.find((b) => b.type === 'actions') as {
      elements: Array<Record<string, unknown>>;
    };
    expect(actions.elements.map((e) => [e.action_id, (e.text as { text: string }).text, e.value])).toEqual([
      ['qwenbot_feedback_up', '👍', 'up:qwen-plus'],
      ['qwenbot_feedback_down', '👎', 'down:qwen-plus'],
    ]);
    await press(BOB, CHANNEL, answer.ts, '👍');
    expect(await rig.app.service.feedback.get(threadRef(thread), answer.ts, BOB)).toMatchObject({
      vote: 'up',
    });
    expect(ephemeralsTo(BOB).at(-1)?.text).toBe('Thanks for the 👍 — noted (only you see this).');
  });

  it('admins see the share of 👍 per model in /usage; /forget deletes the person’s votes', async () => {
    await start();
    const first = await askInChannel('one');
    const second = await askInChannel('two');
    await press(ALICE, CHANNEL, first.answer.ts, '👍');
    await press(BOB, CHANNEL, first.answer.ts, '👍');
    await press(BOB, CHANNEL, second.answer.ts, '👍');
    await rig.settle(
      rig.app.service.feedback.vote(
        {
          conversation: threadRef(second.thread),
          answerId: second.answer.ts,
          model: 'qwen-plus',
          vote: 'down',
          voter: { id: ALICE, name: 'Alice', isBot: false },
        },
        'en',
      ),
      'a 👎',
    );
    const usage = await command('usage', ADMIN);
    expect(usage).toContain('Feedback (last 30 days, whole workspace)');
    expect(usage).toContain('• qwen-plus: 75% 👍 (3 of 4)');
    expect(await command('usage', ALICE)).not.toContain('Feedback');

    expect(await command('forget confirm', ALICE)).toContain('Also deleted 2 feedback vote(s) you gave.');
    expect(
      await rig.app.service.feedback.get(threadRef(first.thread), first.answer.ts, ALICE),
    ).toBeUndefined();
    expect(await command('usage', ADMIN)).toContain('• qwen-plus: 100% 👍 (2 of 2)');
  });

  it('in Socket Mode too: a press arrives over the socket, is acked at once and stored', async () => {
    await start({ mode: 'socket' });
    const { thread, answer } = await askInChannel();
    const ack = await rig.settle(
      rig.fake.socket.deliverInteraction(
        pressFeedback(rig.fake, { user: ALICE, channel: CHANNEL, ts: answer.ts, emoji: '👍' }),
      ),
      'the press to be acked',
    );
    expect(ack.ms).toBeLessThan(3000);
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    expect(await rig.app.service.feedback.get(threadRef(thread), answer.ts, ALICE)).toMatchObject({
      vote: 'up',
    });
    expect(ephemeralsTo(ALICE).at(-1)?.text).toBe('Thanks for the 👍 — noted (only you see this).');
  });

  it('the manifest turns interactivity on: button presses and forms reach the bot', () => {
    const manifest = parse(
      readFileSync(new URL('../../config/slack-manifest.yaml', import.meta.url), 'utf8'),
    ) as {
      settings: { interactivity: { is_enabled: boolean } };
    };
    expect(manifest.settings.interactivity.is_enabled).toBe(INTERACTIVITY);
    expect(INTERACTIVITY).toBe(true);
  });
});
