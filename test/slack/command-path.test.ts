/**
 * Commands through the real Bolt adapter: private results stay private when typed in a mention, and a
 * denied user's command reaches nothing behind the guards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { t } from '../../src/i18n.ts';
import { slash } from '../support/fake-slack/index.ts';
import { ALICE, BOB, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const CHANNEL = 'C0GENERAL';
const bot = () => `<@${rig.fake.bot.userId}>`;
const plain = (s: string) => s.replace(/\u200b/g, '');

describe('private command results typed in a channel', () => {
  it('@qwen /usage in a channel goes to the caller alone (chat.postEphemeral), nothing lands in the thread', async () => {
    rig = await startRig({ sim: { responder: () => 'Tea is good.' } });
    const first = rig.say({ channel: CHANNEL, text: `${bot()} tell me about tea` });
    await rig.deliver(first);
    await rig.deliver(rig.say({ channel: CHANNEL, threadTs: first.ts, text: `${bot()} /usage` }));
    const inThread = rig.fake.thread(CHANNEL, first.ts).filter((m) => m.bot);
    expect(inThread.map((m) => m.text)).toEqual(['Tea is good.']);
    const privately = rig.fake.ws.ephemerals;
    expect(privately).toHaveLength(1);
    expect(privately[0]).toMatchObject({ channel: CHANNEL, user: ALICE, threadTs: first.ts, visible: true });
    expect(plain(privately[0]?.text ?? '')).toContain(t('en', 'usage.you'));
  });

  it('a top-level @qwen /usage gets its ephemeral reply in the channel (Slack shows none in a thread not yet started)', async () => {
    rig = await startRig();
    const said = rig.say({ channel: CHANNEL, text: `${bot()} /usage` });
    await rig.deliver(said);
    expect(rig.fake.thread(CHANNEL, said.ts)).toEqual([]);
    expect(rig.fake.ws.ephemerals).toHaveLength(1);
    expect(rig.fake.ws.ephemerals[0]).toMatchObject({ channel: CHANNEL, user: ALICE, visible: true });
    expect(rig.fake.ws.ephemerals[0]?.threadTs).toBeUndefined();
  });

  it('a typed /help in a channel stays public (ephemeral, but nobody’s private data)', async () => {
    rig = await startRig();
    const said = rig.say({ channel: CHANNEL, text: `${bot()} /help` });
    await rig.deliver(said);
    expect(rig.fake.ws.ephemerals).toEqual([]);
    expect(plain(rig.fake.thread(CHANNEL, said.ts)[0]?.text ?? '')).toContain(t('en', 'help.header'));
  });

  it('when Slack refuses the ephemeral message, a public pointer to the slash command is shown instead', async () => {
    rig = await startRig({ sim: { responder: () => 'Tea is good.' } });
    rig.fake.failNext('chat.postEphemeral', 'user_not_in_channel');
    const said = rig.say({ channel: CHANNEL, text: `${bot()} /usage` });
    await rig.deliver(said);
    const shown = rig.fake.thread(CHANNEL, said.ts).map((m) => plain(m.text));
    expect(shown).toEqual([t('en', 'cmd.private', { name: 'usage' }).replaceAll('/usage', '/qwen usage')]);
    expect(shown.join('')).not.toContain(t('en', 'usage.you'));
  });
});

describe('a denied user', () => {
  it('gets one refusal line for /qwen faq, and the question reaches neither the embeddings nor the model', async () => {
    rig = await startRig({ config: { guards: { denyUsers: [BOB] }, faq: { watch: false } } });
    await rig.settle(rig.app.faq.ready(), 'the FAQ index');
    const before = rig.sim.requests.length;
    await rig.send.command(slash(rig.fake, { user: BOB, channel: CHANNEL, text: 'faq how do I reset?' }));
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    const reply = rig.fake.responses.at(-1)?.body as { response_type?: string; text?: string };
    expect(reply.response_type).toBe('ephemeral');
    expect(plain(reply.text ?? '')).toBe(t('en', 'guard.denied'));
    expect(rig.sim.requests.slice(before)).toEqual([]);
    // /qwen help goes through the same guards (it used to be answered by the adapter itself).
    await rig.send.command(slash(rig.fake, { user: BOB, channel: CHANNEL, text: 'help' }));
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    const help = rig.fake.responses.at(-1)?.body as { text?: string };
    expect(plain(help.text ?? '')).toBe(t('en', 'guard.denied'));
  });
});
