import { webApi } from '@slack/bolt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SLACK_UPDATE_BUCKET, slackSurface } from '../../adapters/slack/surface.ts';

const client = new webApi.WebClient('xoxb-unused', { slackApiUrl: 'http://127.0.0.1:1/api/' });
const log = pino({ level: 'silent' });
const surface = (teamId: string, channel: string, threadTs?: string) =>
  slackSurface({ client, teamId, channel, threadTs, userId: 'U1', isDM: channel.startsWith('D'), log });

describe('Slack reply surface limits', () => {
  it('shares one chat.update budget (Tier 3, ~50/min) per workspace across every answer', () => {
    const a = surface('T1', 'C1', '1.1').limits;
    const b = surface('T1', 'D9').limits;
    const other = surface('T2', 'C1', '1.1').limits;
    expect(a.paceBucket).toBe(b.paceBucket);
    expect(a.bucket).toEqual({ points: 50, durationSec: 60 });
    expect(b.bucket).toBe(SLACK_UPDATE_BUCKET);
    expect(other.paceBucket).not.toBe(a.paceBucket);
  });

  it('stays under chat.update and stream limits with room for formatting', () => {
    const s = surface('T1', 'C1', '1.1');
    expect(s.limits.maxChars).toBeLessThan(4000);
    expect(s.limits.minEditIntervalMs).toBeGreaterThanOrEqual(1000);
    expect(s.native?.maxChars).toBeLessThan(12_000);
  });

  it('offers native streaming and the thinking status only where there is a thread', () => {
    expect(surface('T1', 'C1', '1.1').native).toBeDefined();
    expect(surface('T1', 'C1', '1.1').showTyping).toBeDefined();
    expect(surface('T1', 'D1').native).toBeUndefined();
    expect(surface('T1', 'D1').showTyping).toBeUndefined();
  });
});

describe('switching between mrkdwn text and a markdown block', () => {
  it('clears the block when a later edit fits in plain text again', async () => {
    const { FakeSlack, say } = await import('../support/fake-slack/index.ts');
    const fake = await FakeSlack.start();
    const real = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl });
    const parent = say(fake, { user: 'U1', channel: 'D1', text: 'q' });
    const s = slackSurface({
      client: real,
      teamId: 'T1',
      channel: 'D1',
      threadTs: parent.ts,
      userId: 'U1',
      isDM: true,
      log,
    });
    const dense = `\`\`\`\n${'<b>&</b>'.repeat(400)}\n\`\`\``;
    const posted = await s.post(dense);
    expect(fake.thread('D1', parent.ts)[0]).toMatchObject({ format: 'markdown', text: dense });
    await s.edit(posted, 'Short **answer** now.');
    expect(fake.thread('D1', parent.ts)[0]).toMatchObject({ format: 'mrkdwn', text: 'Short *answer* now.' });
    await fake.close();
  });
});
