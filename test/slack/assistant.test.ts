import { afterEach, describe, expect, it } from 'vitest';
import { assistantContextChanged, openAssistant, openMessagesTab } from '../support/fake-slack/index.ts';
import { until } from '../support/fake-time.ts';
import { ALICE, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const DM = 'D0ALICE';
const asEvent = (body: Record<string, unknown>) => ({ ts: '', message: body, deliveries: [body] });
const systemOf = (i = -1) => {
  const request = rig.sim
    .chatRequests()
    .filter((r) => r.model !== 'qwen-flash')
    .at(i);
  return (request?.messages ?? [])
    .filter((m) => m.role === 'system')
    .map((m) => String(m.content))
    .join('\n');
};

async function open(viewing?: string): Promise<string> {
  const opened = openAssistant(rig.fake, { user: ALICE, dm: DM, ...(viewing ? { viewing } : {}) });
  await rig.deliver(asEvent(opened.body));
  return opened.threadTs;
}

describe('Slack assistant threads', () => {
  it('a new assistant thread gets up to 4 suggested prompts: the FAQ topics by default', async () => {
    rig = await startRig();
    await rig.settle(rig.app.faq.ready(), 'the FAQ to be indexed');
    const threadTs = await open('C0GENERAL');
    const shown = rig.fake.ws.prompts.get(`${DM}:${threadTs}`);
    const faq = rig.app.faq.entries.map((e) => e.question);
    expect(faq.length).toBeGreaterThan(4);
    expect(shown).toEqual({
      title: 'Try asking:',
      prompts: faq.slice(0, 4).map((q) => ({ title: q, message: q })),
    });
  });

  it('agent view (slack.assistant.view: agent): opening the Messages tab sets the prompts on the DM itself; the assistant view ignores it', async () => {
    rig = await startRig({ config: { slack: { assistant: { view: 'agent' } } } });
    await rig.settle(rig.app.faq.ready(), 'the FAQ to be indexed');
    await rig.deliver(asEvent(openMessagesTab(rig.fake, { user: ALICE, dm: DM })));
    const faq = rig.app.faq.entries.map((e) => e.question);
    // No thread_ts: agent apps that send one fail silently at Slack.
    expect(rig.fake.ws.prompts.get(DM)).toEqual({
      title: 'Try asking:',
      prompts: faq.slice(0, 4).map((q) => ({ title: q, message: q })),
    });
    await rig.close();

    rig = await startRig();
    await rig.deliver(asEvent(openMessagesTab(rig.fake, { user: ALICE, dm: DM })));
    expect(rig.fake.ws.prompts.size).toBe(0);
  });

  it("configured prompts win, in the person's language", async () => {
    rig = await startRig({
      fake: {
        users: [{ id: 'U0LI', name: 'li', displayName: 'Li', locale: 'zh-CN' }],
      },
      config: {
        slack: {
          assistant: {
            prompts: [
              { title: 'Weekly report', message: 'Draft my weekly report', locale: 'en' },
              { title: '写周报', message: '帮我写本周的周报', locale: 'zh' },
              { title: 'Translate', message: 'Translate the next message' },
            ],
          },
        },
      },
    });
    const opened = openAssistant(rig.fake, { user: 'U0LI', dm: 'D0LI' });
    await rig.deliver(asEvent(opened.body));
    expect(rig.fake.ws.prompts.get(`D0LI:${opened.threadTs}`)).toEqual({
      title: '可以这样问：',
      prompts: [
        { title: '写周报', message: '帮我写本周的周报' },
        { title: 'Translate', message: 'Translate the next message' },
      ],
    });
  });

  it('shows a status with rotating loading messages while preparing, cleared when the text appears', async () => {
    rig = await startRig();
    const threadTs = await open();
    let release: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    rig.sim.script({ text: 'Here is the answer.', holdAfterChunks: 0, hold });
    const answering = rig.deliver(rig.say({ channel: DM, threadTs, text: 'a question' }));
    await until(() => rig.fake.status(DM, threadTs), 'the assistant status');
    expect(rig.fake.status(DM, threadTs)).toBe('is thinking…');
    expect(rig.fake.ws.loading.get(`${DM}:${threadTs}`)).toEqual([
      'Reading your question…',
      'Thinking it through…',
      'Writing the answer…',
    ]);
    expect(rig.fake.thread(DM, threadTs).filter((m) => m.bot)).toEqual([]);
    release();
    await answering;
    expect(rig.fake.status(DM, threadTs)).toBeUndefined();
    expect(
      rig.fake
        .thread(DM, threadTs)
        .filter((m) => m.bot)
        .map((m) => m.text),
    ).toEqual(['Here is the answer.']);
  });

  it('titles the thread after its first answer with the cheap model, once', async () => {
    rig = await startRig({
      sim: {
        responder: (body) => (body.model === 'qwen-flash' ? '"Switching models."' : 'Use /qwen model.'),
      },
    });
    const threadTs = await open();
    await rig.deliver(rig.say({ channel: DM, threadTs, text: 'how do I change the model?' }));
    expect(rig.fake.ws.titles.get(`${DM}:${threadTs}`)).toBe('Switching models');
    const titleCall = rig.sim.chatRequests().find((r) => r.model === 'qwen-flash');
    expect(JSON.stringify(titleCall?.messages)).toContain('how do I change the model?');
    await rig.deliver(rig.say({ channel: DM, threadTs, text: 'and back?' }));
    expect(rig.fake.count('assistant.threads.setTitle')).toBe(1);
    // Ordinary DM threads are no assistant threads: no title there.
    const plain = rig.say({ channel: DM, text: 'top level' });
    await rig.deliver(plain);
    await rig.deliver(rig.say({ channel: DM, threadTs: plain.ts, text: 'in a thread' }));
    expect(rig.fake.count('assistant.threads.setTitle')).toBe(1);
  });

  it('tells the model which channel the person views (its name only), and follows them when it changes', async () => {
    rig = await startRig({ sim: { responder: () => 'noted' } });
    rig.say({ channel: 'C0GENERAL', user: 'U0BOB', text: 'the launch moves to 12 March' });
    const threadTs = await open('C0GENERAL');
    await rig.deliver(rig.say({ channel: DM, threadTs, text: 'what is this channel for?' }));
    expect(systemOf()).toContain('The user is viewing #general in Slack');
    expect(JSON.stringify(rig.sim.chatRequests().at(-1)?.messages)).not.toContain('launch moves');

    await rig.deliver(
      asEvent(assistantContextChanged(rig.fake, { user: ALICE, dm: DM, threadTs, viewing: 'C0RANDOM' })),
    );
    await rig.deliver(rig.say({ channel: DM, threadTs, text: 'and now?' }));
    expect(systemOf()).toContain('The user is viewing #random in Slack');
    expect(systemOf()).not.toContain('#general');
    await rig.deliver(rig.say({ channel: DM, threadTs, text: 'still here' }));
    // One look-up per channel: its name is kept for a while (conversations.info is Tier 3).
    expect(rig.fake.count('conversations.info')).toBe(2);
    // A DM outside the assistant pane carries no such line.
    await rig.deliver(rig.say({ channel: DM, text: 'plain DM' }));
    expect(systemOf()).not.toContain('The user is viewing');
  });
});
