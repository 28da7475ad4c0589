/**
 * The "Translate" and "Summarize thread" message shortcuts, end to end through real Bolt (signed HTTP
 * interactivity payloads), the fake Slack Web API and the DashScope simulator: private answers through
 * the shortcut's response_url, the target language from users.info `locale`, the thread read with
 * conversations.replies, the channel with conversations.history, and Slack's 1-a-minute read limit.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MESSAGE_SHORTCUTS } from '../../adapters/slack/capabilities.ts';
import { messageShortcut } from '../support/fake-slack/index.ts';
import { ALICE, BOB, type Rig, startRig } from './rig.ts';

const CHANNEL = 'C0GENERAL';
const CLAIRE = 'U0CLAIRE';

let rig: Rig;
afterEach(async () => rig?.close());

async function start(options: Parameters<typeof startRig>[0] = {}): Promise<Rig> {
  rig = await startRig(options);
  rig.fake.addUser({ id: CLAIRE, name: 'claire', displayName: 'Claire', locale: 'fr-FR' });
  return rig;
}

/** Picks the shortcut on the message and returns what Slack showed the person (the response_url post). */
async function shortcut(user: string, ts: string, callbackId: string): Promise<Record<string, unknown>> {
  const payload = messageShortcut(rig.fake, { user, channel: CHANNEL, ts, callbackId });
  const res = await rig.settle(rig.send.interaction(payload), 'the shortcut to be acked');
  expect(res.status).toBe(200);
  await rig.settle(rig.slack.idle(), 'the shortcut to be answered');
  const answer = rig.fake.responses.filter((r) => r.id === `shortcut-${ts}`).at(-1);
  if (!answer) throw new Error(`no answer to the shortcut on ${ts}`);
  return answer.body;
}

describe('config/slack-manifest.yaml', () => {
  it('declares both message shortcuts with the callback ids the adapter listens to', () => {
    const manifest = parse(
      readFileSync(new URL('../../config/slack-manifest.yaml', import.meta.url), 'utf8'),
    ) as {
      features: {
        shortcuts: Array<{ name: string; type: string; callback_id: string; description: string }>;
      };
    };
    const declared = manifest.features.shortcuts.map((s) => [s.callback_id, s.name, s.type]);
    expect(declared).toEqual(Object.entries(MESSAGE_SHORTCUTS).map(([id, name]) => [id, name, 'message']));
    for (const s of manifest.features.shortcuts) expect(s.description.length).toBeLessThanOrEqual(80);
  });
});

describe('Translate (message shortcut)', () => {
  it('answers privately in the person’s Slack locale; qwen-mt got one user message and translation_options', async () => {
    await start();
    const said = rig.say({ user: BOB, channel: CHANNEL, text: 'Hello <!channel>, lunch at noon?' });
    const body = await shortcut(CLAIRE, said.ts, 'translate_message');
    expect(body.response_type).toBe('ephemeral');
    // The broadcast in the original is shown, never sent as one.
    expect(body.text).toBe('🌐 Translated into French:\n[French] Hello &lt;!channel>, lunch at noon?');
    const sent = rig.sim.chatRequests().filter((b) => b.model === 'qwen-mt-turbo');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.messages).toEqual([{ role: 'user', content: 'Hello <!channel>, lunch at noon?' }]);
    expect(sent[0]?.translation_options).toEqual({ source_lang: 'auto', target_lang: 'French' });
    expect(rig.fake.count('users.info')).toBeGreaterThan(0);
    // Nothing was posted in the channel.
    expect(rig.fake.channel(CHANNEL).filter((m) => m.bot)).toEqual([]);
  });

  it('mentions reach qwen-mt as names; a model failure leaves a readable line', async () => {
    await start();
    const said = rig.say({ user: BOB, channel: CHANNEL, text: 'merci <@U0ALICE>' });
    // DashScope fails twice: the first is retried, the second reaches the person as a line.
    const failure = {
      match: (b: { model: string }) => b.model === 'qwen-mt-turbo',
      error: { status: 500, code: 'internal_error', message: 'An internal error has occured' },
    };
    rig.sim.script(failure, failure);
    const body = await shortcut(ALICE, said.ts, 'translate_message');
    expect(body.text).toMatch(/^Could not translate this message\. \S/);
    const sent = rig.sim.chatRequests().filter((b) => b.model === 'qwen-mt-turbo');
    expect(sent).toHaveLength(2);
    expect(sent[0]?.messages).toEqual([{ role: 'user', content: 'merci @Alice' }]);
    expect(sent[0]?.translation_options).toEqual({ source_lang: 'auto', target_lang: 'English' });
    expect(rig.logs.lines.some((l) => l.includes('translate failed'))).toBe(true);
  });

  it('a message without text gets a clear line and no model call', async () => {
    await start();
    const said = rig.say({ user: BOB, channel: CHANNEL, text: ' ' });
    const body = await shortcut(ALICE, said.ts, 'translate_message');
    expect(body.text).toBe('There is no text in this message to translate.');
    expect(rig.sim.chatRequests()).toHaveLength(0);
  });
});

describe('Summarize thread (message shortcut)', () => {
  it('reads the thread and answers privately; the prompt holds every message with its author', async () => {
    await start();
    const parent = rig.say({ user: ALICE, channel: CHANNEL, text: 'Shall we ship on Friday?' });
    rig.say({ user: BOB, channel: CHANNEL, threadTs: parent.ts, text: 'Yes, after <@U0ALICE> reviews it' });
    const last = rig.say({ user: ALICE, channel: CHANNEL, threadTs: parent.ts, text: 'Deal.' });
    rig.sim.script({ match: (b) => b.model === 'qwen-flash', text: '- Ship Friday, after Alice’s review.' });
    const body = await shortcut(BOB, last.ts, 'summarize_thread');
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toMatch(
      /^📝 Summary of the last 3 messages:\n+• +Ship Friday, after Alice’s review\.$/,
    );
    const prompt = JSON.stringify(rig.sim.chatRequests().find((b) => b.model === 'qwen-flash')?.messages);
    expect(prompt).toContain('Alice: Shall we ship on Friday?');
    expect(prompt).toContain('Bob: Yes, after @Alice reviews it');
    expect(prompt).toContain('Alice: Deal.');
    expect(rig.fake.count('conversations.replies')).toBe(1);
  });

  it('outside a thread reads the channel’s latest messages; a second read within a minute gets Slack’s limit as a line', async () => {
    await start();
    rig.say({ user: ALICE, channel: CHANNEL, text: 'Standup moved to 10:00' });
    const last = rig.say({ user: BOB, channel: CHANNEL, text: 'Noted' });
    rig.sim.script({ match: (b) => b.model === 'qwen-flash', text: 'Standup is at 10:00 now.' });
    const first = await shortcut(ALICE, last.ts, 'summarize_thread');
    expect(first.text).toBe('📝 Summary of the last 2 messages:\nStandup is at 10:00 now.');
    expect(rig.fake.count('conversations.history')).toBe(1);
    const again = await shortcut(ALICE, last.ts, 'summarize_thread');
    expect(again.text).toMatch(
      /^The platform lets the bot read messages here only about once a minute\. Please try again in \d+s\.$/,
    );
    expect(rig.sim.chatRequests().filter((b) => b.model === 'qwen-flash')).toHaveLength(1);
  });

  it('keeps the newest messages that fit summarize.maxChars, oldest first', async () => {
    await start({ config: { summarize: { maxChars: 700 } } });
    const parent = rig.say({ user: ALICE, channel: CHANNEL, text: `old ${'a'.repeat(300)}` });
    rig.say({ user: BOB, channel: CHANNEL, threadTs: parent.ts, text: `middle ${'b'.repeat(300)}` });
    const last = rig.say({
      user: ALICE,
      channel: CHANNEL,
      threadTs: parent.ts,
      text: `new ${'c'.repeat(300)}`,
    });
    const body = await shortcut(BOB, last.ts, 'summarize_thread');
    expect(body.text).toMatch(/^📝 Summary of the last 2 messages:/);
    const prompt = JSON.stringify(rig.sim.chatRequests().find((b) => b.model === 'qwen-flash')?.messages);
    expect(prompt).not.toContain('old a');
    expect(prompt.indexOf('Bob: middle')).toBeLessThan(prompt.indexOf('Alice: new'));
  });
});

describe('Socket Mode', () => {
  it('a shortcut delivered over the socket is acked and answered privately', async () => {
    await start({ mode: 'socket' });
    const said = rig.say({ user: BOB, channel: CHANNEL, text: 'Hallo zusammen' });
    const payload = messageShortcut(rig.fake, {
      user: CLAIRE,
      channel: CHANNEL,
      ts: said.ts,
      callbackId: 'translate_message',
    });
    await rig.settle(rig.fake.socket.deliverInteraction(payload), 'the shortcut to be acked');
    await rig.settle(rig.slack.idle(), 'the shortcut to be answered');
    const answer = rig.fake.responses.find((r) => r.id === `shortcut-${said.ts}`);
    expect(answer?.body).toMatchObject({
      response_type: 'ephemeral',
      text: '🌐 Translated into French:\n[French] Hallo zusammen',
    });
  });
});
