/**
 * Faults on the Discord side, through the real discord.js client and the fake Discord: 429s and 5xx
 * on message edits, and a dropped gateway connection (resumed, or re-identified when the session is
 * gone). Each case checks what the channel shows, the structured log, that later messages are answered
 * without a restart, and that the user's turn is stored.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from '../discord/harness.ts';
import { feedbackButtons } from '../support/fake-discord/components.ts';
import { LEVEL, logged, until } from './support.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness({ config: { guards: { userMessagesPerWindow: 1000 } } });
});
afterAll(async () => {
  await h?.close();
});

const EDIT = '/channels/:id/messages/:id';
const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

async function ask(channelId: string, text: string) {
  const turn = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId, content: h.mention(text) });
  const [outcome] = await turn;
  return outcome;
}

async function userTurns(channelId: string): Promise<string[]> {
  const turns = await h.app.service.history.load(`discord:${h.guild.id}:${channelId}`);
  return turns.filter((t) => t.role === 'user').map((t) => t.text);
}

describe('Discord answers edits with errors', () => {
  test('429s on edits: discord.js waits them out, the answer completes, the 429s are logged', async () => {
    const channel = h.fake.addChannel(h.guild, 'edits-429');
    const answer = `Rate limited but complete: ${words(30, 'r')}.`;
    h.sim.script({ text: answer, chunkChars: 12, chunkDelayMs: 40 });
    const mark = h.logs.lines.length;
    const limitedBefore = h.fake.rateLimited;
    h.fake.forceRateLimit('PATCH', EDIT, 3, 0.2);
    const outcome = await ask(channel.id, 'edits-429-q1');
    expect(outcome?.status).toBe('answered');
    const [reply] = h.fake.botMessages(channel.id);
    expect(reply?.content).toBe(answer);
    expect(reply?.components).toEqual(feedbackButtons());
    expect(h.fake.rateLimited - limitedBefore).toBe(3);
    const limited = logged(h.logs, 'discord rate limited', mark);
    expect(limited.length).toBe(3);
    expect(limited[0]).toMatchObject({ level: LEVEL.warn, method: 'PATCH' });
    expect(await ask(channel.id, 'edits-429-q2')).toMatchObject({ status: 'answered' });
    expect(h.fake.botMessages(channel.id).at(-1)?.content).toBe('Echo: Alice: edits-429-q2');
    expect(await userTurns(channel.id)).toEqual(['edits-429-q1', 'edits-429-q2']);
  });

  test('a 5xx burst on edits longer than discord.js retries: the final edit is retried and lands', async () => {
    const channel = h.fake.addChannel(h.guild, 'edits-5xx');
    const answer = `Server errors on the way: ${words(20, 'e')}.`;
    h.sim.script({ text: answer, chunkChars: 8, chunkDelayMs: 20 });
    const mark = h.logs.lines.length;
    // discord.js retries a 5xx three times by itself; six in a row is more than one request can absorb.
    h.fake.forceServerError('PATCH', EDIT, 6, 502);
    const outcome = await ask(channel.id, 'edits-5xx-q1');
    expect(outcome?.status).toBe('answered');
    const [reply] = h.fake.botMessages(channel.id);
    // What the person ends up seeing: the whole answer, without the Stop button (👍 / 👎 instead).
    expect(reply?.content).toBe(answer);
    expect(reply?.components).toEqual(feedbackButtons());
    const failed = logged(h.logs, /reply delivery failed/, mark);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed[0]?.level).toBe(LEVEL.warn);
    expect(await ask(channel.id, 'edits-5xx-q2')).toMatchObject({ status: 'answered' });
    expect(h.fake.botMessages(channel.id).at(-1)?.content).toBe('Echo: Alice: edits-5xx-q2');
    expect(await userTurns(channel.id)).toEqual(['edits-5xx-q1', 'edits-5xx-q2']);
  });
});

describe('the gateway connection drops', () => {
  test('resumed: a message sent while disconnected is replayed and answered, and so are later ones', async () => {
    const channel = h.fake.addChannel(h.guild, 'drop-resume');
    const mark = h.logs.lines.length;
    const resumes = h.fake.gateway.resumes;
    h.fake.dropGateway();
    expect(h.fake.gateway.connected).toBe(0);
    // Said while the bot is away: Discord keeps it for the session and replays it on RESUME.
    const during = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('drop-resume-q1') });
    expect((await during)[0]?.status).toBe('answered');
    expect(h.fake.gateway.resumes).toBe(resumes + 1);
    expect(await ask(channel.id, 'drop-resume-q2')).toMatchObject({ status: 'answered' });
    expect(h.fake.botMessages(channel.id).map((m) => m.content)).toEqual([
      'Echo: Alice: drop-resume-q1',
      'Echo: Alice: drop-resume-q2',
    ]);
    expect(logged(h.logs, 'discord gateway connection lost; reconnecting', mark)[0]?.level).toBe(LEVEL.warn);
    expect(logged(h.logs, 'discord gateway resumed', mark)[0]?.level).toBe(LEVEL.info);
    expect(await userTurns(channel.id)).toEqual(['drop-resume-q1', 'drop-resume-q2']);
    await until(() => h.discord.isReady(), 'the adapter to report ready again');
  });

  test('not resumable: discord.js identifies again and later messages are answered', async () => {
    const channel = h.fake.addChannel(h.guild, 'drop-identify');
    const identifies = h.fake.gateway.identifies;
    h.fake.dropGateway({ resumable: false });
    await until(
      () => h.fake.gateway.identifies > identifies && h.fake.gateway.connected > 0,
      'a new IDENTIFY',
    );
    await until(() => h.discord.isReady(), 'the adapter to report ready again');
    expect(await ask(channel.id, 'drop-identify-q1')).toMatchObject({ status: 'answered' });
    expect(h.fake.botMessages(channel.id).map((m) => m.content)).toEqual(['Echo: Alice: drop-identify-q1']);
    expect(await userTurns(channel.id)).toEqual(['drop-identify-q1']);
  });
});
