import { afterEach, describe, expect, it } from 'vitest';
import { t } from '../../src/i18n.ts';
import { slash } from '../support/fake-slack/index.ts';
import { ADMIN, ALICE, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const DM = 'D0ALICE';
const CHANNEL = 'C0GENERAL';
const bot = () => `<@${rig.fake.bot.userId}>`;

/** Runs `/qwen <text>`: returns the HTTP ack and what Slack then shows (the response_url body). */
async function command(text: string, channel = DM, user = ALICE, channelName?: string) {
  const before = rig.fake.responses.length;
  const ack = await rig.send.command(
    slash(rig.fake, { user, channel, text, ...(channelName ? { channelName } : {}) }),
  );
  await rig.deliver({ ts: '', message: {}, deliveries: [] });
  const reply = rig.fake.responses.slice(before)[0]?.body as
    | { response_type?: string; text?: string }
    | undefined;
  // As a person reads it: slackify-markdown puts zero-width spaces around emphasis.
  if (reply?.text) reply.text = reply.text.replace(/\u200b/g, '');
  return { ack, reply };
}

const promptOf = (n: number) =>
  (rig.sim.chatRequests()[n]?.messages ?? [])
    .filter((m) => m.role !== 'system')
    .map((m) => String(m.content));

describe('/qwen slash command', () => {
  it('acks at once and switches the model for the conversation; the switch persists', async () => {
    rig = await startRig({ sim: { responder: (b) => `model=${b.model}` } });
    const { ack, reply } = await command('model qwen-max');
    expect(ack.status).toBe(200);
    expect(ack.ms).toBeLessThan(3000);
    expect(reply).toEqual({
      response_type: 'in_channel',
      text: t('en', 'model.switched', { model: 'qwen-max' }).replace('**qwen-max**', '*qwen-max*'),
      replace_original: false,
    });
    await rig.deliver(rig.say({ channel: DM, text: 'which model are you?' }));
    expect(rig.sim.chatRequests()[0]?.model).toBe('qwen-max');
    // Stored with the conversation, not in the adapter: a fresh process reads it back.
    const settings = await rig.app.service.settings.get(`slack:${rig.fake.team.id}:${DM}`);
    expect(settings.model).toBe('qwen-max');
  });

  it('lets only workspace admins set the workspace default model, which new threads then use', async () => {
    rig = await startRig({ sim: { responder: (b) => `model=${b.model}` } });
    const denied = await command('model qwen-max default:true', CHANNEL, ALICE);
    expect(denied.reply?.response_type).toBe('ephemeral');
    expect(denied.reply?.text).toBe(t('en', 'cmd.denied', { name: 'qwen model default:true' }));
    // users.info says Ada is a workspace admin.
    const allowed = await command('model qwen-max default:true', CHANNEL, ADMIN);
    expect(allowed.reply?.text).toContain('qwen-max');
    const said = rig.say({ channel: CHANNEL, text: `${bot()} which model?` });
    await rig.deliver(said);
    expect(rig.sim.chatRequests().at(-1)?.model).toBe('qwen-max');
    expect(rig.fake.thread(CHANNEL, said.ts).map((m) => m.text)).toEqual(['model=qwen-max']);
  });

  it('rejects an unknown model, only to the person who asked', async () => {
    rig = await startRig();
    const { reply } = await command('model qwen-gigantic');
    expect(reply?.response_type).toBe('ephemeral');
    expect(reply?.text).toContain(t('en', 'model.unknown', { model: 'qwen-gigantic' }));
  });

  it('/qwen reset clears the DM history', async () => {
    rig = await startRig({ sim: { responder: () => 'noted' } });
    await rig.deliver(rig.say({ channel: DM, text: 'remember the number 7' }));
    const { reply } = await command('reset');
    expect(reply?.text).toBe(t('en', 'reset.done'));
    await rig.deliver(rig.say({ channel: DM, text: 'what number?' }));
    expect(promptOf(1)).toEqual(['what number?']);
  });

  it('a mentioned /reset inside a thread clears that thread (Slack has no slash commands in threads)', async () => {
    rig = await startRig({ sim: { responder: () => 'noted' } });
    const first = rig.say({ channel: CHANNEL, text: `${bot()} remember the number 7` });
    await rig.deliver(first);
    await rig.deliver(rig.say({ channel: CHANNEL, threadTs: first.ts, text: `${bot()} /reset` }));
    await rig.deliver(rig.say({ channel: CHANNEL, threadTs: first.ts, text: 'what number?' }));
    const shown = rig.fake
      .thread(CHANNEL, first.ts)
      .filter((m) => m.bot)
      .map((m) => m.text);
    expect(shown).toEqual(['noted', t('en', 'reset.done'), 'noted']);
    expect(promptOf(1)).toEqual([expect.stringContaining('what number?')]);
  });

  it("spells the core's command hints the Slack way: /qwen forget confirm", async () => {
    rig = await startRig({ sim: { responder: () => 'noted' } });
    await rig.deliver(rig.say({ channel: DM, text: 'remember me' }));
    const ask = await command('forget');
    expect(ask.reply?.response_type).toBe('ephemeral');
    expect(ask.reply?.text).toContain('`/qwen forget confirm`');
    expect(ask.reply?.text).not.toMatch(/(^|[^n] )\/forget/);
    const bad = await command('model qwen-max extra words');
    expect(bad.reply?.text).toContain('/qwen model');
    const done = await command('forget confirm');
    expect(done.reply?.response_type).toBe('ephemeral');
    await rig.deliver(rig.say({ channel: DM, text: 'who am I?' }));
    expect(promptOf(1)).toEqual(['who am I?']);
  });

  it("shows a person's own text as written: a `/reset` in their system prompt is not respelled", async () => {
    rig = await startRig();
    const prompt = 'Tell people to type /reset or /help when they are lost.';
    expect((await command(`system ${prompt}`)).reply?.text).toBe(t('en', 'system.set'));
    const shown = await command('system');
    expect(shown.reply?.text).toContain(prompt);
    expect(shown.reply?.text).not.toContain('/qwen reset');
  });

  it('free text that starts with `word:` is the argument, not an unknown option', async () => {
    rig = await startRig({ sim: { responder: () => "d'accord" } });
    const { reply } = await command('system note: answer in French');
    expect(reply?.text).toBe(t('en', 'system.set'));
    await rig.deliver(rig.say({ channel: DM, text: 'hello' }));
    const system = rig.sim.chatRequests()[0]?.messages.find((m) => m.role === 'system');
    expect(String(system?.content)).toContain('note: answer in French');
  });

  it('a channel named "directmessage" is still a channel: admin-only commands stay admin-only', async () => {
    rig = await startRig();
    const { reply } = await command('system be terse', 'C0DIRECTMSG', ALICE, 'directmessage');
    expect(reply?.text).toBe(t('en', 'cmd.denied', { name: 'qwen system' }));
    const settings = await rig.app.service.settings.get(`slack:${rig.fake.team.id}:C0DIRECTMSG`);
    expect(settings.systemPrompt).toBeUndefined();
  });

  it('help lists every core command in its Slack spelling, privately', async () => {
    rig = await startRig();
    const { reply } = await command('');
    expect(reply?.response_type).toBe('ephemeral');
    for (const spec of rig.app.service.commands()) expect(reply?.text).toContain(`/qwen ${spec.name}`);
    const unknown = await command('frobnicate');
    expect(unknown.reply?.response_type).toBe('ephemeral');
    expect(unknown.reply?.text).toContain('Unknown command "/qwen frobnicate"');
  });
});
