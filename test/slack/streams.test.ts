import { webApi } from '@slack/bolt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { UserDirectory } from '../../adapters/slack/users.ts';
import { ADMIN, ALICE, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const CHANNEL = 'C0GENERAL';
const bot = () => `<@${rig.fake.bot.userId}>`;
const replies = (ts: string) => rig.fake.thread(CHANNEL, ts).filter((m) => m.bot);

describe('native streams at their limits', () => {
  it('continues a 13,000-character answer in a second streamed message', async () => {
    const sentence = 'Streams hold about twelve thousand characters each, so this one needs two. ';
    const answer = sentence.repeat(Math.ceil(13_000 / sentence.length)).trimEnd();
    rig = await startRig();
    rig.sim.script({ text: answer, chunkChars: 400 });
    const said = rig.say({ channel: CHANNEL, text: `${bot()} write a lot` });
    await rig.deliver(said);
    const shown = replies(said.ts);
    expect(shown.map((m) => m.format)).toEqual(['markdown', 'markdown']);
    for (const m of shown) expect(m.text.length).toBeLessThan(12_000);
    expect(shown.map((m) => m.text).join('')).toBe(answer);
    expect(rig.fake.count('chat.appendStream', 'msg_too_long')).toBe(0);
  });

  it('continues in a fresh stream when Slack closes a long-running one, leaving none broken', async () => {
    const answer = 'This answer takes longer than the stream may stay open, yet every word still arrives.';
    rig = await startRig();
    rig.fake.streamTtlMs = 400;
    rig.sim.script({ text: answer, chunkChars: 6, chunkDelayMs: 100 });
    const said = rig.say({ channel: CHANNEL, text: `${bot()} take your time` });
    await rig.deliver(said);
    expect(rig.fake.count('chat.appendStream', 'message_not_in_streaming_state')).toBeGreaterThan(0);
    const shown = replies(said.ts);
    expect(shown.length).toBeGreaterThan(1);
    for (const m of shown) expect([m.format, m.broken, m.streaming]).toEqual(['markdown', false, false]);
    expect(shown.map((m) => m.text).join('')).toBe(answer);
  });
});

describe('throttled streams', () => {
  it('a 429 on chat.startStream falls back to post-and-update at once instead of stalling', async () => {
    const answer = 'Answered through post-and-update while the stream method was throttled.';
    rig = await startRig();
    rig.fake.rateLimitNext('chat.startStream', 30);
    rig.sim.script({ text: answer, chunkChars: 12, chunkDelayMs: 30 });
    const said = rig.say({ channel: CHANNEL, text: `${bot()} now please` });
    const started = Date.now();
    await rig.deliver(said);
    // Far less than the 30 s Retry-After: nothing waited for it.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(replies(said.ts).map((m) => [m.format, m.text])).toEqual([['mrkdwn', answer]]);
    expect(rig.fake.count('chat.startStream', 'ratelimited')).toBe(1);
  });

  it('a 429 on chat.stopStream waits its Retry-After and still ends the stream', async () => {
    const answer = 'A streamed answer whose ending was throttled once.';
    rig = await startRig();
    rig.fake.rateLimitNext('chat.stopStream', 1);
    rig.sim.script({ text: answer, chunkChars: 10, chunkDelayMs: 20 });
    const said = rig.say({ channel: CHANNEL, text: `${bot()} go` });
    await rig.deliver(said);
    expect(replies(said.ts).map((m) => [m.format, m.text, m.streaming])).toEqual([
      ['markdown', answer, false],
    ]);
    expect(rig.fake.count('chat.stopStream', 'ratelimited')).toBe(1);
    expect(rig.fake.count('chat.stopStream')).toBe(1);
  });
});

describe('who is an admin', () => {
  it('is a workspace admin or owner per users.info, or listed in guards.admins', async () => {
    rig = await startRig();
    const client = new webApi.WebClient(rig.fake.botToken, { slackApiUrl: rig.fake.apiUrl });
    const plain = new UserDirectory(client, [], pino({ level: 'silent' }));
    expect((await plain.get(ADMIN)).isAdmin).toBe(true);
    expect(await plain.get(ALICE)).toMatchObject({ name: 'Alice', isAdmin: false, locale: 'en-US' });
    const configured = new UserDirectory(client, [ALICE], pino({ level: 'silent' }));
    expect((await configured.get(ALICE)).isAdmin).toBe(true);
    // Unknown users still get an author (their id as name), never an exception.
    expect(await plain.get('U0NOBODY')).toMatchObject({ id: 'U0NOBODY', name: 'U0NOBODY', isAdmin: false });
  });
});

describe('tool tasks in the stream', () => {
  it('a tool call that fails ends its task as an error, not as done', async () => {
    rig = await startRig();
    // Arguments that are not JSON: the call fails and the model answers without the tool.
    rig.sim.script(
      { toolCalls: [{ name: 'search_faq', arguments: '{"query": ' }] },
      { text: 'I could not look that up, but /reset starts afresh.' },
    );
    const said = rig.say({ channel: CHANNEL, text: `${bot()} how do I reset?` });
    await rig.deliver(said);
    const [shown] = replies(said.ts);
    expect(shown?.text).toBe('I could not look that up, but /reset starts afresh.');
    expect(rig.fake.ws.find(CHANNEL, shown?.ts ?? '')?.taskUpdates).toEqual([
      'faq: in_progress',
      'faq: error',
    ]);
  });
});
