/**
 * Thinking budgets end to end: `/thinking low` typed on Discord (slash command through discord.js and
 * the fake Discord) and on Slack (`/qwen thinking high` through Bolt and the fake Slack) reach DashScope
 * as `enable_thinking: true` with the configured `thinking_budget`; the simulator stops the reasoning at
 * the budget, and the person sees the answer, not the reasoning.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from '../discord/harness.ts';
import { type Rig, startRig } from '../slack/rig.ts';
import { showsStop } from '../support/fake-discord/components.ts';
import { slash } from '../support/fake-slack/index.ts';
import { until } from './support.ts';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close();
});

const LONG_REASONING = 'Weigh each option against the others before answering. '.repeat(40);

describe('thinking budgets on both platforms', () => {
  test('Discord: /thinking low sends thinking_budget 1024; /thinking off sends enable_thinking false', async () => {
    // Fake time runs faster than real time: how long the model "thought" is not what is under test here.
    const h: DiscordHarness = await startDiscordHarness({
      config: { faq: { enabled: false }, streaming: { showThinkingTime: false } },
    });
    closers.push(() => h.close());
    const channel = h.fake.addChannel(h.guild, 'thinking');
    const command = async (state: string) => {
      const it = h.fake.slash({ user: h.alice, channelId: channel.id, name: 'thinking', options: { state } });
      const original = () => h.fake.state.findMessage(it.originalId ?? '');
      await until(
        () =>
          it.followUps.length > 0 ||
          (it.callbackType === 5 ? (original()?.edits ?? 0) > 0 : it.callbackType !== undefined),
        '/thinking to be answered',
      );
      return h.fake.state.findMessage(it.followUps[0] ?? '')?.content ?? original()?.content;
    };
    expect(await command('low')).toBe(
      'Thinking is now on (small budget: 1,024 tokens) here (model qwen-plus).',
    );
    h.sim.script({ reasoning: LONG_REASONING, text: 'A considered answer.' });
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('which one?') });
    await turn;
    const sent = h.sim.chatRequests().at(-1);
    expect([sent?.enable_thinking, sent?.thinking_budget]).toEqual([true, 1024]);
    await until(() => !showsStop(h.fake.botMessages(channel.id).at(-1)), 'the final reply');
    expect(h.fake.botMessages(channel.id).at(-1)?.content).toBe('A considered answer.');

    expect(await command('off')).toBe('Thinking is now off here (model qwen-plus).');
    const next = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('quick one') });
    await next;
    expect(h.sim.chatRequests().at(-1)?.enable_thinking).toBe(false);
    expect(h.sim.chatRequests().at(-1)).not.toHaveProperty('thinking_budget');
  });

  test('Slack: /qwen thinking high sends thinking_budget 8192 and the thread shows only the answer', async () => {
    const rig: Rig = await startRig({
      config: { faq: { enabled: false }, streaming: { showThinkingTime: false } },
    });
    closers.push(() => rig.close());
    const CHANNEL = 'C0GENERAL';
    const before = rig.fake.responses.length;
    const ack = await rig.send.command(
      slash(rig.fake, { user: 'U0ALICE', channel: CHANNEL, text: 'thinking high' }),
    );
    expect(ack.status).toBe(200);
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    await until(() => rig.fake.responses.length > before, 'the command reply');
    expect(String(rig.fake.responses.slice(before)[0]?.body.text ?? '')).toContain(
      'Thinking is now on (large budget: 8,192 tokens) here (model qwen-plus).',
    );
    rig.sim.script({ reasoning: LONG_REASONING, text: 'Thought it through.' });
    const said = rig.say({ channel: CHANNEL, text: `<@${rig.fake.bot.userId}> which one?` });
    await rig.deliver(said);
    const sent = rig.sim.chatRequests().at(-1);
    expect([sent?.enable_thinking, sent?.thinking_budget]).toEqual([true, 8192]);
    const shown = rig.fake.thread(CHANNEL, said.ts).filter((m) => m.bot);
    expect(shown.map((m) => m.text)).toEqual(['Thought it through.']);
  });

  test('Discord with streaming.reasoning spoiler: the end of the reasoning follows the answer behind a spoiler', async () => {
    const h: DiscordHarness = await startDiscordHarness({
      config: {
        faq: { enabled: false },
        streaming: { reasoning: 'spoiler', showThinkingTime: false, minEditIntervalMs: 1000 },
      },
    });
    closers.push(() => h.close());
    const channel = h.fake.addChannel(h.guild, 'spoiler');
    await h.app.service.settings.update(`discord:${h.guild.id}:${channel.id}`, { thinking: true });
    h.sim.script({ reasoning: 'Option A costs less | option B lasts longer. B wins.', text: 'Take B.' });
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('A or B?') });
    await turn;
    await until(() => !showsStop(h.fake.botMessages(channel.id).at(-1)), 'the final reply');
    // The model's own `|` is escaped: it cannot end the spoiler early.
    expect(h.fake.botMessages(channel.id).at(-1)?.content).toBe(
      'Take B.\n\n||Option A costs less \\| option B lasts longer. B wins.||',
    );
  });

  test('Slack with streaming.reasoning spoiler: Slack has no spoiler, so the end of the reasoning follows as a quote', async () => {
    const rig: Rig = await startRig({
      config: { faq: { enabled: false }, streaming: { reasoning: 'spoiler', showThinkingTime: false } },
    });
    closers.push(() => rig.close());
    const CHANNEL = 'C0GENERAL';
    await rig.app.service.settings.update(`slack:${rig.fake.team.id}:${CHANNEL}`, { thinking: true });
    rig.sim.script({ reasoning: 'Option A costs less.\nOption B lasts longer.', text: 'Take B.' });
    const said = rig.say({ channel: CHANNEL, text: `<@${rig.fake.bot.userId}> A or B?` });
    await rig.deliver(said);
    const shown = rig.fake.thread(CHANNEL, said.ts).filter((m) => m.bot);
    expect(shown.map((m) => m.text)).toEqual([
      'Take B.\n\n> 💭 Option A costs less.\n> Option B lasts longer.',
    ]);
  });
});
