/**
 * Hostile input through the real Slack adapter (Bolt, HTTP mode, signed requests): huge, empty,
 * mention-only and invisible messages, right-to-left text, malformed events and files (missing fields,
 * wrong types, a bogus or foreign URL, a declared size that lies), slash-command arguments of the
 * wrong type or length, and model output that tries to ping everyone. Each gets a bounded, clear
 * result; the process survives and keeps answering.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Rig, startRig } from '../slack/rig.ts';
import { eventBody, slash } from '../support/fake-slack/index.ts';
import { logged, watchUnhandled } from './support.ts';

let rig: Rig;
const unhandled = watchUnhandled();
const DM = 'D0ALICE';
const CHANNEL = 'C0GENERAL';
beforeAll(async () => {
  rig = await startRig({
    config: {
      guards: { userMessagesPerWindow: 1000 },
      attachments: { maxImageBytes: 50_000, maxTextFileBytes: 2_000 },
    },
  });
});
afterAll(async () => {
  unhandled.stop();
  await rig?.close();
});

const bot = () => `<@${rig.fake.bot.userId}>`;
const botTexts = (channel: string, threadTs?: string) =>
  (threadTs ? rig.fake.thread(channel, threadTs) : rig.fake.channel(channel)).filter((m) => m.bot);

/** A DM from Alice; resolves with the bot's newest message there as a person reads it. */
async function dm(text: string, extra: Record<string, unknown> = {}) {
  await rig.deliver(rig.say({ channel: DM, text, ...extra }));
  return botTexts(DM).at(-1);
}

describe('messages that are too big, empty or invisible', () => {
  test('a 100 KB message is refused with one line and never reaches the model', async () => {
    const before = rig.sim.chatRequests().length;
    expect((await dm('y'.repeat(100_000)))?.text).toBe(
      'Your message is too long (100000 characters; at most 20000).',
    );
    expect(rig.sim.chatRequests().length).toBe(before);
  });

  test('mention-only, and zero-width / direction marks only, get the hint line', async () => {
    const before = rig.sim.chatRequests().length;
    const said = rig.say({ channel: CHANNEL, text: bot() });
    await rig.deliver(said);
    expect(botTexts(CHANNEL, said.ts).map((m) => m.text)).toEqual([
      'Ask me something after the mention, or try /qwen help.',
    ]);
    expect((await dm('\u200b\u200d\u2060 \u200f\u202e\u2066'))?.text).toBe(
      'Ask me something after the mention, or try /qwen help.',
    );
    expect(rig.sim.chatRequests().length).toBe(before);
  });

  test('right-to-left and zero-width characters inside real text reach the model and come back', async () => {
    const text = 'he\u200bllo \u202eدنیا\u202c שלום \u2067mixed\u2069';
    const reply = await dm(text);
    expect(rig.sim.chatRequests().at(-1)?.messages.at(-1)?.content).toBe(text);
    // The fake shows text as a person reads it (invisible characters dropped).
    expect(reply?.text).toBe(`Echo: ${text}`.replace(/\u200b/g, ''));
  });
});

describe('malformed events and files', () => {
  test('events with missing or wrongly typed fields are acked, logged, and the next message is answered', async () => {
    const base = {
      type: 'message',
      channel: DM,
      channel_type: 'im',
      ts: '1700000000.000001',
      user: 'U0ALICE',
    };
    const bad: Array<Record<string, unknown>> = [
      eventBody(rig.fake, { ...base, ts: '1700000000.000002', user: undefined, text: 'no user' }),
      eventBody(rig.fake, { ...base, ts: '1700000000.000003', text: 42 }),
      eventBody(rig.fake, {
        ...base,
        ts: '1700000000.000004',
        text: 'files',
        files: 'not-a-list',
        subtype: 'file_share',
      }),
      eventBody(rig.fake, {
        ...base,
        ts: '1700000000.000005',
        text: null,
        files: [null, { size: 'big', url_private: 7 }],
        subtype: 'file_share',
      }),
      eventBody(rig.fake, {
        type: 'app_mention',
        text: `${bot()} hi`,
        ts: '1700000000.000006',
        user: 'U0ALICE',
      }),
      eventBody(rig.fake, { type: 'no_such_event', whatever: true }),
    ];
    const started = Date.now();
    const statuses: number[] = [];
    for (const body of bad) statuses.push((await rig.send.event(body)).status);
    // Acked at once (Slack retries what is not acked within 3 s).
    expect(Date.now() - started).toBeLessThan(3000);
    for (const status of statuses) expect(status).toBeLessThan(500);
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    expect((await dm('still there?'))?.text).toBe('Echo: still there?');
    expect(unhandled.seen).toEqual([]);
    console.log(
      'slack malformed events logged:',
      logged(rig.logs, /failed|skipped/)
        .map((r) => r.msg)
        .join(' | '),
    );
  });

  test('a bogus URL, a foreign host and a declared size that lies each get a one-line note', async () => {
    const png = new Uint8Array(80_000);
    png.set([0x89, 0x50, 0x4e, 0x47]);
    const liar = { ...rig.fake.addFile('small.png', 'image/png', png), size: 1_000 };
    const bogus = {
      ...rig.fake.addFile('notes.txt', 'text/plain', new Uint8Array(5)),
      url_private_download: 'not a url at all',
    };
    const foreign = {
      ...rig.fake.addFile('steal.txt', 'text/plain', new Uint8Array(5)),
      url_private_download: 'https://evil.example/steal.txt',
    };
    const reply = await dm('look at these', { files: [liar, bogus, foreign] });
    expect(reply?.text.split('\n')).toEqual([
      'Echo: look at these',
      '',
      '(Skipped small.png: too large.)',
      '(Skipped notes.txt: could not be read (Invalid URL).)',
      '(Skipped steal.txt: could not be read (refusing to send the bot token to evil.example).)',
    ]);
    expect(JSON.stringify(rig.sim.chatRequests().at(-1)?.messages)).not.toContain('image_url');
  });
});

describe('slash commands with bad arguments', () => {
  test('wrong choice, too long, unknown option: one usage line each, nothing changed', async () => {
    const command = async (text: string) => {
      const before = rig.fake.responses.length;
      const ack = await rig.send.command(slash(rig.fake, { user: 'U0ALICE', channel: DM, text }));
      expect(ack.status).toBe(200);
      await rig.deliver({ ts: '', message: {}, deliveries: [] });
      return String(rig.fake.responses.slice(before)[0]?.body.text ?? '').replace(/\u200b/g, '');
    };
    expect(await command('thinking maybe')).toBe(
      '/qwen thinking: state must be one of: off, low, high, max, on. Usage: /qwen thinking [state]',
    );
    expect(await command(`model ${'q'.repeat(500)}`)).toMatch(
      /^\/qwen model: name is too long \(at most 64 characters\)/,
    );
    expect(await command(`system ${'x'.repeat(5000)}`)).toMatch(
      /^\/qwen system: text is too long \(at most 4000 characters\)/,
    );
    expect(await command('thinking colour:blue')).toMatch(/^\/qwen thinking: unknown option "colour"/);
    // Invisible-only arguments: the unknown-command line and the command list, not an error.
    expect(await command('\u202e\u200b')).toMatch(
      /^Unknown command "\/qwen [^"]*"\.\nMention me or DM me to chat\. Commands:\n/,
    );
    const settings = await rig.app.service.settings.get(`slack:${rig.fake.team.id}:${DM}`);
    expect(settings.thinking).toBeUndefined();
    expect(settings.systemPrompt).toBeUndefined();
  });
});

describe('asking the model to ping everyone', () => {
  const text = '@everyone @here <!channel> <!here|here> <@U0BOB> <!subteam^S1|team> wake up';
  test('in a DM (post-and-update, mrkdwn) and in a thread (native stream, Markdown) nobody is pinged', async () => {
    rig.sim.script({ text }, { text, chunkChars: 3 });
    const inDm = await dm('please ping @everyone for me');
    expect(inDm?.pings).toEqual([]);
    expect(inDm?.text).toContain('wake up');
    const said = rig.say({ channel: CHANNEL, text: `${bot()} ping <!channel> please` });
    await rig.deliver(said);
    const [inThread] = botTexts(CHANNEL, said.ts);
    expect(inThread?.pings).toEqual([]);
    expect(inThread?.text).toContain('wake up');
    expect(unhandled.seen).toEqual([]);
  });
});
