import { afterEach, describe, expect, it } from 'vitest';
import { fencesBalanced } from '../../src/core/split.ts';
import { type Rig, SIGNING_SECRET, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const CHANNEL = 'C0GENERAL';
const DM = 'D0ALICE';
const bot = () => `<@${rig.fake.bot.userId}>`;
const dmReplies = () => rig.fake.channel(DM).filter((m) => m.bot);

describe('HTTP mode requests', () => {
  it('rejects bad and stale signatures with 401 and never processes them', async () => {
    rig = await startRig({ sim: { responder: () => 'should never be said' } });
    const said = rig.say({ channel: DM, text: 'forged hello' });
    const body = said.message;
    const forged = await rig.send.event(body, { secret: 'not-the-secret' });
    const stale = await rig.send.event(body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect([forged.status, stale.status]).toEqual([401, 401]);
    await rig.deliver({ ...said, deliveries: [] });
    expect(rig.sim.chatRequests()).toHaveLength(0);
    expect(rig.fake.calledMethods().has('chat.postMessage')).toBe(false);
    expect(SIGNING_SECRET).not.toBe('not-the-secret');
  });

  it("answers Slack's URL verification challenge, and leaves other paths to the shared server", async () => {
    rig = await startRig();
    const res = await rig.send.event({ token: 'x', challenge: 'ch4llenge', type: 'url_verification' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ challenge: 'ch4llenge' });
    const other = await fetch(rig.send.url.replace('/slack/events', '/healthz'));
    expect(other.status).toBe(404);
  });

  it('acks at once and answers a duplicated and a retried event only once', async () => {
    rig = await startRig();
    rig.sim.script({ text: 'Only once.', firstTokenDelayMs: 400 }, { text: 'A second answer!' });
    const said = rig.say({ channel: DM, text: 'hi' });
    const body = said.message;
    const results = await Promise.all([
      rig.send.event(body),
      rig.send.event(body),
      rig.send.event(body, { retryNum: 1, retryReason: 'http_timeout' }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    // Slack wants the ack within 3 s; it comes before the model has even answered.
    for (const r of results) expect(r.ms).toBeLessThan(400);
    await rig.deliver({ ...said, deliveries: [] });
    // A late retry (Slack's third attempt) is still a duplicate.
    await rig.send.event(body, { retryNum: 2, retryReason: 'http_error' });
    await rig.deliver({ ...said, deliveries: [] });
    expect(dmReplies().map((m) => m.text)).toEqual(['Only once.']);
    expect(rig.sim.chatRequests()).toHaveLength(1);
  });
});

describe('what the answer looks like', () => {
  it('renders Markdown as Slack formatting: bold, links, code blocks and lists', async () => {
    const md = [
      'Here is **the plan** for [our launch](https://example.com/launch):',
      '',
      '1. Build it',
      '2. Ship it',
      '',
      '- uses `npm`',
      '- runs on Node',
      '',
      '```js',
      'const ok = a < b && c > d;',
      '```',
    ].join('\n');
    rig = await startRig({ sim: { responder: () => md } });
    await rig.deliver(rig.say({ channel: DM, text: 'plan?' }));
    const [reply] = dmReplies();
    expect(reply?.formatted).toContain('Here is *the plan* for <https://example.com/launch|our launch>:');
    expect(reply?.formatted).toMatch(/^1\.\s+Build it$/m);
    expect(reply?.formatted).toMatch(/^2\.\s+Ship it$/m);
    expect(reply?.formatted).toMatch(/^•\s+uses `npm`$/m);
    expect(reply?.formatted).toContain('```\nconst ok = a &lt; b && c > d;\n```');
    expect(reply?.text).toContain('const ok = a < b && c > d;');
    expect(reply?.formatted).not.toContain('**');
    expect(reply?.links).toEqual([{ url: 'https://example.com/launch', label: 'our launch' }]);

    // A native stream takes standard Markdown, which Slack renders itself: sent as the model wrote it.
    const said = rig.say({ channel: CHANNEL, text: `${bot()} plan?` });
    await rig.deliver(said);
    const [streamed] = rig.fake.thread(CHANNEL, said.ts).filter((m) => m.bot);
    expect(streamed?.format).toBe('markdown');
    expect(streamed?.formatted).toBe(md);
    expect(streamed?.links).toEqual([{ url: 'https://example.com/launch', label: 'our launch' }]);
  });

  it('neutralises <!channel>, @everyone and user mentions written by the model', async () => {
    const answer = 'Sure! <!channel> please read this, @everyone, and <@U0BOB> too. <!subteam^S0DEVS|@devs>';
    rig = await startRig({ sim: { responder: () => answer } });
    await rig.deliver(rig.say({ channel: DM, text: 'ping everyone' }));
    const thread = rig.say({ channel: CHANNEL, text: `${bot()} ping everyone` });
    await rig.deliver(thread);
    const shown = [...dmReplies(), ...rig.fake.thread(CHANNEL, thread.ts).filter((m) => m.bot)];
    expect(shown.map((m) => m.format)).toEqual(['mrkdwn', 'markdown']);
    for (const m of shown) {
      expect(m.pings).toEqual([]);
      expect(m.text).toContain('<!channel> please read this, @everyone, and <@U0BOB> too.');
    }
  });

  it('splits a 6,000-character answer into messages under the limit, code fence intact', async () => {
    const para = (i: number) => `Paragraph ${i}: ${'lorem ipsum dolor sit amet '.repeat(8).trim()}\n\n`;
    const code = `\`\`\`ts\n${Array.from({ length: 60 }, (_, i) => `const line${i} = ${i};`).join('\n')}\n\`\`\`\n\n`;
    let answer = '';
    let i = 0;
    while (answer.length < 2900) answer += para(i++);
    // The code block straddles the 3,500-character cut.
    answer += code;
    while (answer.length < 6000) answer += para(i++);
    answer = answer.trimEnd();
    expect(answer.length).toBeGreaterThan(6000);
    rig = await startRig({ sim: { responder: () => answer } });
    await rig.deliver(rig.say({ channel: DM, text: 'write a lot' }));
    const replies = dmReplies();
    expect(replies.length).toBe(2);
    for (const m of replies) {
      expect(m.formatted.length).toBeLessThanOrEqual(4000);
      expect(fencesBalanced(m.formatted)).toBe(true);
    }
    // The cut fell inside the code block: it is closed in the first message and reopened in the second.
    expect(replies[0]?.formatted.endsWith('```')).toBe(true);
    expect(replies[1]?.formatted.startsWith('```')).toBe(true);
    // Every line of the answer is shown once, in order (fences reopened around the cut).
    const lines = (s: string) =>
      s
        .split('\n')
        .map((l) => l.trimEnd())
        .filter((l) => l && !l.startsWith('```'));
    expect(replies.flatMap((m) => lines(m.text))).toEqual(lines(answer));
  });

  it('shows code full of < and & completely, though escaping would pass 4,000 characters', async () => {
    const row = (i: number) => `<tr><td><b>${i}</b></td><td><i>a&b</i></td></tr>`;
    const lines: string[] = [];
    for (let i = 0; lines.join('\n').length < 3300; i++) lines.push(row(i));
    const answer = `Here is the list:\n\n\`\`\`html\n<table>\n${lines.join('\n')}\n</table>\n\`\`\`\n\nPing <!channel> if it breaks.`;
    expect(answer.length).toBeLessThan(3500);
    rig = await startRig({ sim: { responder: () => answer } });
    await rig.deliver(rig.say({ channel: DM, text: 'html please' }));
    const replies = dmReplies();
    expect(replies).toHaveLength(1);
    expect(replies[0]?.format).toBe('markdown');
    expect(replies[0]?.text).toBe(answer);
    expect(replies[0]?.pings).toEqual([]);
    // The notification text stays within chat.update's limit.
    const last = rig.fake.calls.filter((c) => c.method === 'chat.update').at(-1);
    expect(String(last?.params.text).length).toBeLessThan(4000);
  });

  it('still shows the complete final text when Slack answers an update with 429', async () => {
    const answer = 'A steady answer that arrives in many small pieces so that it is updated several times.';
    rig = await startRig();
    rig.sim.script({ text: answer, chunkChars: 4, chunkDelayMs: 60 });
    rig.fake.rateLimitNext('chat.update', 1);
    await rig.deliver(rig.say({ channel: DM, text: 'go' }));
    expect(rig.fake.count('chat.update', 'ratelimited')).toBe(1);
    const replies = dmReplies();
    expect(replies.map((m) => m.text)).toEqual([answer]);
    expect(replies[0]?.updates).toBeGreaterThanOrEqual(2);
  });
});
