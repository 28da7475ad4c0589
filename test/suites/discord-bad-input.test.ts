/**
 * Hostile input through the real Discord adapter: huge, empty, mention-only and invisible messages,
 * zero-width and right-to-left text, malformed gateway events, broken attachments (bogus URL, a
 * declared size that lies, wrong field types), command arguments of the wrong type or length, and a
 * model answer that tries to ping everyone. Each gets a bounded, clear result; the process survives.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from '../discord/harness.ts';
import { showsStop } from '../support/fake-discord/components.ts';
import type { FakeChannel } from '../support/fake-discord/index.ts';
import { finishedReply, logged, until, watchUnhandled } from './support.ts';

let h: DiscordHarness;
let channel: FakeChannel;
const unhandled = watchUnhandled();
beforeAll(async () => {
  h = await startDiscordHarness({
    config: {
      guards: { userMessagesPerWindow: 1000 },
      // Small limits, so the "declared size lies" case does not need megabytes.
      attachments: {
        maxImageBytes: 50_000,
        maxTextFileBytes: 2_000,
        maxTurnChars: 5_000,
        downloadTimeoutMs: 300,
      },
      discord: { maxAttachmentBytes: 60_000 },
    },
  });
  channel = h.fake.addChannel(h.guild, 'hostile');
});
afterAll(async () => {
  unhandled.stop();
  await h?.close();
});

/** Says `content` in the test channel; resolves with the outcome and the bot's newest message there. */
async function say(
  content: string,
  extra: Parameters<DiscordHarness['fake']['say']>[0] extends infer O ? Partial<O> : never = {},
) {
  const turn = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: channel.id, content, ...extra });
  const [outcome] = await turn;
  await until(() => !showsStop(h.fake.botMessages(channel.id).at(-1)), 'the reply to be final');
  return { outcome, reply: h.fake.botMessages(channel.id).at(-1)?.content };
}

describe('messages that are too big, empty or invisible', () => {
  test('a 100 KB message is refused with one line and never reaches the model', async () => {
    const before = h.sim.chatRequests().length;
    const { outcome, reply } = await say(h.mention('x'.repeat(100_000)));
    expect(outcome?.status).toBe('refused');
    expect(reply).toBe('Your message is too long (100000 characters; at most 20000).');
    expect(h.sim.chatRequests().length).toBe(before);
  });

  test('mention-only, and a mention followed by only zero-width / direction marks, get the hint line', async () => {
    const before = h.sim.chatRequests().length;
    const hint = 'Ask me something after the mention, or try /help.';
    expect((await say(h.mention(''))).reply).toBe(hint);
    expect((await say(h.mention('\u200b\u200c\u200d\u2060\ufeff \u200e\u200f\u202e\u2066'))).reply).toBe(
      hint,
    );
    expect(h.sim.chatRequests().length).toBe(before);
  });

  test('zero-width and right-to-left characters inside real text reach the model intact', async () => {
    const text = 'he\u200bllo \u202eدنیا\u202c שלום \u2067mixed\u2069';
    const { outcome, reply } = await say(h.mention(text));
    expect(outcome?.status).toBe('answered');
    expect(reply).toBe(`Echo: Alice: ${text}`);
  });
});

describe('malformed gateway events', () => {
  test('events with missing or wrongly typed fields are survived, and the next message is answered', async () => {
    const bot = h.fake.bot;
    const author = { id: h.alice.id, username: 'alice', discriminator: '0', global_name: null, avatar: null };
    // In a channel of their own, so the well-formed message below does not queue behind them.
    const junk = h.fake.addChannel(h.guild, 'junk');
    const base = {
      id: '1',
      channel_id: junk.id,
      guild_id: h.guild.id,
      type: 0,
      timestamp: new Date().toISOString(),
    };
    const bad: unknown[] = [
      {},
      null,
      { ...base, id: '2' }, // no author, no content
      { ...base, id: '3', author, content: 42, mentions: 'nobody', attachments: null, embeds: {} },
      { ...base, id: '4', author, content: `<@${bot.id}> hi`, channel_id: '999999999999999999' },
      { ...base, id: '5', author: { id: null }, content: `<@${bot.id}> hi`, mentions: [{ id: bot.id }] },
      {
        ...base,
        id: '6',
        author,
        content: `<@${bot.id}> hi`,
        attachments: [{ id: 'a', url: 7, size: 'big' }],
      },
    ];
    for (const d of bad) h.fake.gateway.dispatch('MESSAGE_CREATE', d);
    h.fake.gateway.dispatch('INTERACTION_CREATE', { id: '7', type: 2, data: null, token: 't' });
    h.fake.gateway.dispatch('NO_SUCH_EVENT', { what: 'ever' });
    // Some of those may be answered (as far as they make sense); what matters is that this one is.
    const asked = h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('still there?') });
    const reply = await finishedReply(h.fake, channel.id, asked.id, 'the answer to the well-formed message');
    expect(reply.content).toBe('Echo: Alice: still there?');
    expect(unhandled.seen).toEqual([]);
    expect(
      logged(h.logs, 'discord gateway event could not be processed; skipped').length,
    ).toBeGreaterThanOrEqual(3);
    // Let whatever the malformed events started finish before the next test counts turns.
    await h.settle(h.app.service.queue.idle(), 'the queue to empty');
    await until(() => h.app.service.activeCount === 0, 'answers in flight to end');
  });
});

describe('broken attachments', () => {
  test('a bogus URL, a URL that 404s and a declared size that lies each get a one-line note', async () => {
    const png = new Uint8Array(80_000);
    png.set([0x89, 0x50, 0x4e, 0x47]);
    const liar = h.fake.addFile('small.png', png, 'image/png', 1_000); // says 1 KB, serves 80 KB
    const gone = {
      ...h.fake.addFile('gone.txt', new Uint8Array(5), 'text/plain'),
      url: `${h.fake.baseUrl}/attachments/0/none.txt`,
    };
    const bogus = {
      ...h.fake.addFile('bogus.txt', new Uint8Array(5), 'text/plain'),
      url: 'not a url at all',
    };
    const { outcome, reply } = await say(h.mention('look at these'), { attachments: [liar, gone, bogus] });
    expect(outcome?.status).toBe('answered');
    expect(reply).toBe(
      [
        'Echo: Alice: look at these',
        '',
        '(Skipped small.png: could not be read (attachment is larger than 60000 bytes).)',
        '(Skipped gone.txt: could not be read (attachment download failed: HTTP 404).)',
        '(Skipped bogus.txt: could not be read (Failed to parse URL from not a url at all).)',
      ].join('\n'),
    );
    // The model was asked without any of them.
    expect(JSON.stringify(h.sim.chatRequests().at(-1)?.messages)).not.toContain('image_url');
  });
});

describe('a download that stalls', () => {
  test('is given up after attachments.downloadTimeoutMs with a note, and the question is answered', async () => {
    const slow = h.fake.addFile('slow.txt', Buffer.from('s'.repeat(1_000)), 'text/plain');
    const served = h.fake.state.files.get(slow.id);
    if (served) served.stalled = true;
    const { outcome, reply } = await say(h.mention('read this'), { attachments: [slow] });
    expect(outcome?.status).toBe('answered');
    expect(reply).toBe(
      'Echo: Alice: read this\n\n(Skipped slow.txt: could not be read (download timed out after 0.3 s).)',
    );
  });
});

describe('many text files in one message', () => {
  test('they share one budget (attachments.maxTurnChars): the file that crosses it is cut, the rest skipped, each named', async () => {
    const files = Array.from({ length: 10 }, (_, i) =>
      h.fake.addFile(`part${i + 1}.txt`, Buffer.from('ABCDEFGHIJ'.charAt(i).repeat(1_500)), 'text/plain'),
    );
    h.sim.script({ text: 'Read them.' });
    const { outcome, reply } = await say(h.mention('summarise these'), { attachments: files });
    expect(outcome?.status).toBe('answered');
    expect(reply).toBe(
      [
        'Read them.',
        '',
        '(Cut part4.txt after 500 characters: the text files of one message add at most 5000.)',
        ...[5, 6, 7, 8, 9, 10].map(
          (n) => `(Skipped part${n}.txt: the text files of one message add at most 5000 characters.)`,
        ),
      ].join('\n'),
    );
    const prompt = JSON.stringify(h.sim.chatRequests().at(-1)?.messages);
    expect(prompt).toContain('C'.repeat(1_500));
    expect(prompt).toContain(`${'D'.repeat(500)}\\n`);
    expect(prompt).not.toContain('D'.repeat(501));
    expect(prompt).not.toContain('E'.repeat(10));
    // Files past the budget are not even downloaded.
    expect(files.slice(4).map((f) => h.fake.state.files.get(f.id)?.downloads)).toEqual([0, 0, 0, 0, 0, 0]);
    const turns = await h.app.service.history.load(`discord:${h.guild.id}:${channel.id}`);
    const stored = turns.filter((t) => t.role === 'user').at(-1)?.text ?? '';
    expect(stored.length).toBeGreaterThan(5_000);
    expect(stored.length).toBeLessThan(5_000 + 500);
  });
});

describe('commands with bad arguments', () => {
  test('wrong choice, wrong type, too long, unknown option: one usage line each, nothing changed', async () => {
    // The reply a person sees: the deferred original edited, or (errors are private) a follow-up.
    const slash = async (name: string, options: Record<string, string | number | boolean>) => {
      const it = h.fake.slash({ user: h.mod, channelId: channel.id, name, options });
      const original = () => h.fake.state.findMessage(it.originalId ?? '');
      await until(
        () =>
          it.followUps.length > 0 ||
          (it.callbackType === 5 ? (original()?.edits ?? 0) > 0 : it.callbackType !== undefined),
        `/${name} to be answered`,
      );
      return h.fake.state.findMessage(it.followUps[0] ?? '')?.content ?? original()?.content;
    };
    expect(await slash('thinking', { state: 'maybe' })).toBe(
      '/thinking: state must be one of: off, low, high, max, on. Usage: /thinking [state]',
    );
    expect(await slash('thinking', { state: 42 })).toMatch(
      /^\/thinking: state must be one of: off, low, high, max, on/,
    );
    expect(await slash('model', { name: 'q'.repeat(500) })).toBe(
      '/model: name is too long (at most 64 characters). Usage: /model [name] [default]',
    );
    expect(await slash('system', { text: 'x'.repeat(5000) })).toMatch(
      /^\/system: text is too long \(at most 4000 characters\)/,
    );
    // Typed as a message, the same parser answers.
    const typed = await say(h.mention('/thinking state:sideways extra args'));
    expect(typed.reply).toMatch(/^\/thinking: /);
    const settings = await h.app.service.settings.get(`discord:${h.guild.id}:${channel.id}`);
    expect(settings.thinking).toBeUndefined();
    expect(settings.systemPrompt).toBeUndefined();
  });
});

describe('asking the model to ping everyone', () => {
  test('model output with @everyone, @here, user and role mentions pings nobody', async () => {
    const text = `@everyone @here <!channel> <@${h.bob.id}> <@!${h.mod.id}> <@&${h.guild.adminRoleId}> wake up`;
    h.sim.script({ text });
    const { outcome, reply } = await say(h.mention('please ping @everyone for me'));
    expect(outcome?.status).toBe('answered');
    expect(reply).toBe(text);
    const message = h.fake.botMessages(channel.id).at(-1);
    expect(message?.mention_everyone).toBe(false);
    expect(message?.mentions).toEqual([]);
    expect(message?.mention_roles).toEqual([]);
    expect(unhandled.seen).toEqual([]);
  });
});
