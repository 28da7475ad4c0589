import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { webApi } from '@slack/bolt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { slackEditor } from '../../adapters/slack/surface.ts';
import { t } from '../../src/i18n.ts';
import { FakeSlack, say } from '../support/fake-slack/index.ts';
import { until } from '../support/fake-time.ts';
import { ALICE, startRig } from './rig.ts';

const DM = 'D0ALICE';
const CHANNEL = 'C0GENERAL';

describe('crash repair on Slack', () => {
  it('the next start marks an answer cut by a crash as interrupted, keeping what was shown', async () => {
    const storeUrl = `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-slack-')), 'bot.sqlite')}`;
    const first = await startRig({ storeUrl });
    first.sim.script({
      text: 'partial words '.repeat(40),
      chunkChars: 7,
      // Slow enough for several edits (Slack spaces them 1.2 s apart), so an old snapshot would show.
      chunkDelayMs: 250,
      stallAfterChunks: 12,
    });
    const said = first.say({ channel: DM, text: 'a long question' });
    await first.settle(first.send.event(said.message), 'the event to be acked');
    const shown = () => first.fake.channel(DM).find((m) => m.bot);
    // Twelve chunks of seven characters reach Slack, then the model stalls; the last edit shows them all.
    const streamed = 'partial words '.repeat(40).slice(0, 84);
    await until(() => (shown()?.text ?? '') === streamed.trimEnd(), 'the stalled answer', 5000);
    await first.settle(first.app.service.inflight.flush(), 'the crash-repair records');
    // The first process "dies" here; a second one starts on the same store and workspace.
    const atCrash = shown()?.text ?? '';
    const second = await startRig({ storeUrl, reuse: { fake: first.fake, sim: first.sim } });
    expect(
      await second.settle(second.app.service.recoverInterrupted([second.slack.editor]), 'the repair'),
    ).toBe(1);
    // Nothing that was visible is gone (an older snapshot of 20-odd characters used to replace it).
    expect(shown()?.text).toBe(`${atCrash}\n\n${t('en', 'status.interrupted')}`);
    expect(first.fake.channel(DM).filter((m) => m.bot)).toHaveLength(1);
    const turns = await second.app.service.history.load(`slack:${first.fake.team.id}:${DM}`);
    expect(turns.at(-1)).toMatchObject({ role: 'assistant', status: 'interrupted', text: atCrash });

    first.app.service.stop(shown()?.ts ?? '', { id: ALICE, name: 'Alice', isBot: false });
    await second.close();
    await first.close();
  });

  it('a channel answer streaming natively gets the line, is stopped, and its words are stored', async () => {
    const storeUrl = `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-slack-')), 'bot.sqlite')}`;
    const first = await startRig({ storeUrl });
    first.sim.script({ text: 'streamed words '.repeat(40), chunkChars: 5, stallAfterChunks: 9 });
    const said = first.say({ channel: CHANNEL, text: `<@${first.fake.bot.userId}> a long question` });
    await first.settle(first.send.event(said.mention ?? said.message), 'the event to be acked');
    const reply = () => first.fake.thread(CHANNEL, said.ts).find((m) => m.bot);
    const streamed = 'streamed words '.repeat(40).slice(0, 45);
    await until(() => (reply()?.text ?? '') === streamed, 'the stalled stream', 5000);
    expect(reply()?.streaming).toBe(true);
    await first.settle(first.app.service.inflight.flush(), 'the crash-repair records');
    // The first process "dies" mid-stream; a second one starts on the same store and workspace.
    const second = await startRig({ storeUrl, reuse: { fake: first.fake, sim: first.sim } });
    expect(
      await second.settle(second.app.service.recoverInterrupted([second.slack.editor]), 'the repair'),
    ).toBe(1);
    expect(reply()).toMatchObject({
      streaming: false,
      text: `${streamed}\n\n${t('en', 'status.interrupted')}`,
    });
    expect(first.fake.count('chat.stopStream')).toBe(1);
    const key = `slack:${first.fake.team.id}:${CHANNEL}:${said.ts}`;
    const turns = await second.app.service.history.load(key);
    expect(turns.map((turn) => [turn.role, turn.status, turn.text])).toEqual([
      ['user', undefined, 'a long question'],
      ['assistant', 'interrupted', streamed.trim()],
    ]);

    await first.settle(first.app.service.drain(0), 'the stalled answer to end');
    await second.close();
    await first.close();
  });

  it('an answer spread over two streamed messages keeps both and is stored whole', async () => {
    const storeUrl = `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-slack-')), 'bot.sqlite')}`;
    const first = await startRig({ storeUrl });
    // 12,000 characters reach Slack before the model stalls: more than one streamed message holds.
    const sentence = 'Streams hold about twelve thousand characters each, so this needs two. ';
    const words = sentence.repeat(400);
    const streamed = words.slice(0, 12_000);
    first.sim.script({ text: words, chunkChars: 400, stallAfterChunks: 30 });
    const said = first.say({ channel: CHANNEL, text: `<@${first.fake.bot.userId}> write a lot` });
    await first.settle(first.send.event(said.mention ?? said.message), 'the event to be acked');
    const replies = () => first.fake.thread(CHANNEL, said.ts).filter((m) => m.bot);
    await until(
      () =>
        replies()
          .map((m) => m.text)
          .join('') === streamed,
      'the stalled streams',
      10_000,
    );
    await first.settle(first.app.service.inflight.flush(), 'the crash-repair records');
    const atCrash = replies().map((m) => m.text);
    expect(atCrash).toHaveLength(2);

    const second = await startRig({ storeUrl, reuse: { fake: first.fake, sim: first.sim } });
    expect(
      await second.settle(second.app.service.recoverInterrupted([second.slack.editor]), 'the repair'),
    ).toBe(1);
    expect(replies().map((m) => [m.streaming, m.text])).toEqual([
      [false, atCrash[0]],
      [false, `${atCrash[1]}\n\n${t('en', 'status.interrupted')}`],
    ]);
    const turns = await second.app.service.history.load(`slack:${first.fake.team.id}:${CHANNEL}:${said.ts}`);
    expect(turns.at(-1)).toMatchObject({ role: 'assistant', status: 'interrupted', text: streamed.trim() });

    await first.settle(first.app.service.drain(0), 'the stalled answer to end');
    await second.close();
    await first.close();
  });

  it('a stream Slack closed meanwhile is updated to what it showed plus the line', async () => {
    const storeUrl = `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-slack-')), 'bot.sqlite')}`;
    const first = await startRig({ storeUrl });
    first.sim.script({ text: 'streamed words '.repeat(40), chunkChars: 5, stallAfterChunks: 9 });
    const said = first.say({ channel: CHANNEL, text: `<@${first.fake.bot.userId}> a long question` });
    await first.settle(first.send.event(said.mention ?? said.message), 'the event to be acked');
    const reply = () => first.fake.thread(CHANNEL, said.ts).find((m) => m.bot);
    const streamed = 'streamed words '.repeat(40).slice(0, 45);
    await until(() => (reply()?.text ?? '') === streamed, 'the stalled stream', 5000);
    await first.settle(first.app.service.inflight.flush(), 'the crash-repair records');
    // Slack closes streams after about five minutes on its own.
    first.fake.streamTtlMs = 0;
    const second = await startRig({ storeUrl, reuse: { fake: first.fake, sim: first.sim } });
    expect(
      await second.settle(second.app.service.recoverInterrupted([second.slack.editor]), 'the repair'),
    ).toBe(1);
    expect(first.fake.count('chat.stopStream', 'message_not_in_streaming_state')).toBe(1);
    const after = reply()?.text ?? '';
    expect(after).toBe(`${streamed.trimEnd()}\n\n${t('en', 'status.interrupted')}`);
    expect(after.length).toBeGreaterThanOrEqual(streamed.trimEnd().length);

    first.fake.streamTtlMs = 5 * 60_000;
    await first.settle(first.app.service.drain(0), 'the stalled answer to end');
    await second.close();
    await first.close();
  });

  it('ends a message Slack still counts as streaming before replacing its text', async () => {
    const fake = await FakeSlack.start();
    const client = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl });
    const parent = say(fake, { user: ALICE, channel: DM, text: 'q' });
    const started = await client.chat.startStream({
      channel: DM,
      thread_ts: parent.ts,
      markdown_text: 'half an ans',
    });
    const editor = slackEditor(client, pino({ level: 'silent' }));
    const ref = { platform: 'slack', workspace: fake.team.id, channel: DM, thread: parent.ts, isDM: true };
    await editor.editMessage(ref, started.ts ?? '', 'half an ans\n\n⚠️ interrupted');
    const [reply] = fake.thread(DM, parent.ts);
    expect(reply).toMatchObject({ streaming: false, text: 'half an ans\n\n⚠️ interrupted' });
    expect(fake.count('chat.update', 'streaming_state_conflict')).toBe(1);
    await fake.close();
  });
});
