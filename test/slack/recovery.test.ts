import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { webApi } from '@slack/bolt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { slackEditor } from '../../adapters/slack/surface.ts';
import { t } from '../../src/i18n.ts';
import { FakeSlack, say } from '../support/fake-slack/index.ts';
import { ALICE, startRig } from './rig.ts';

const DM = 'D0ALICE';

describe('crash repair on Slack', () => {
  it('the next start marks an answer cut by a crash as interrupted, keeping what was shown', async () => {
    const storeUrl = `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-slack-')), 'bot.sqlite')}`;
    const first = await startRig({ storeUrl });
    first.sim.script({
      text: 'partial words '.repeat(40),
      chunkChars: 7,
      chunkDelayMs: 10,
      stallAfterChunks: 12,
    });
    const said = first.say({ channel: DM, text: 'a long question' });
    await first.send.event(said.message);
    const shown = () => first.fake.channel(DM).find((m) => m.bot);
    await expect.poll(() => shown()?.text ?? '', { timeout: 5000 }).toContain('partial words partial');
    await first.app.service.inflight.flush();
    // The first process "dies" here; a second one starts on the same store and workspace.
    const atCrash = shown()?.text ?? '';
    const second = await startRig({ storeUrl, reuse: { fake: first.fake, sim: first.sim } });
    expect(await second.app.service.recoverInterrupted([second.slack.editor])).toBe(1);
    expect(shown()?.text).toBe(`${atCrash}\n\n${t('en', 'status.interrupted')}`);
    expect(first.fake.channel(DM).filter((m) => m.bot)).toHaveLength(1);

    first.app.service.stop(shown()?.ts ?? '', { id: ALICE, name: 'Alice', isBot: false });
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
