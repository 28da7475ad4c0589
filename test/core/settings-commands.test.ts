import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Author, CommandInvocation, ConversationRef } from '../../src/core/types.ts';
import { until } from '../suites/support.ts';
import { lastUserText } from '../support/dashscope-sim.ts';
import {
  adminAuthor as admin,
  aliceAuthor as alice,
  channelRef,
  type Harness,
  message,
  startHarness,
} from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const run = (
  name: string,
  rawArgs = '',
  author: Author = alice,
  conversation: ConversationRef = channelRef(),
) =>
  (h as Harness).app.service.runCommand({ name, rawArgs, author, conversation } satisfies CommandInvocation);

describe('per-conversation settings commands', () => {
  it('/thinking on sends enable_thinking and shows a thinking state; off turns it off; unsupported models say so', async () => {
    h = await startHarness();
    expect((await run('thinking', 'on')).text).toBe(
      'Thinking is now on (the model’s full budget) here (model qwen-plus).',
    );
    h.sim.script({
      reasoning: 'Let me work through this carefully.',
      text: 'Answer after thinking.',
      chunkDelayMs: 2,
    });
    const surface = new RecordingSurface();
    await h.app.service.handleMessage(message('hard question'), surface);
    expect(h.sim.chatRequests().at(-1)?.enable_thinking).toBe(true);
    // The model's maximum: no budget sent.
    expect(h.sim.chatRequests().at(-1)).not.toHaveProperty('thinking_budget');
    expect(surface.events.some((e) => e.text === '🤔 Thinking…')).toBe(true);
    expect(surface.shown()).toEqual(['Answer after thinking.']);
    // Reasoning is neither shown at the end nor stored.
    const stored = await h.app.service.history.load('test:W1:C1');
    expect(JSON.stringify(stored)).not.toContain('carefully');
    expect((await run('thinking', 'off')).text).toBe('Thinking is now off here (model qwen-plus).');
    await h.app.service.handleMessage(message('easy one'), new RecordingSurface());
    expect(h.sim.chatRequests().at(-1)?.enable_thinking).toBe(false);
    await run('model', 'qwen-max');
    expect((await run('thinking', 'on')).text).toBe('qwen-max cannot switch thinking on or off.');
    expect((await run('thinking', 'maybe')).text).toBe(
      '/thinking: state must be one of: off, low, high, max, on. Usage: /thinking [state]',
    );
  });

  it('/thinking low and high send their thinking_budget; the simulator stops reasoning there', async () => {
    h = await startHarness({ config: { qwen: { thinkingBudgets: { low: 16, high: 64 } } } });
    expect((await run('thinking', 'low')).text).toBe(
      'Thinking is now on (small budget: 16 tokens) here (model qwen-plus).',
    );
    expect((await run('thinking')).text).toBe(
      'Thinking is on (small budget: 16 tokens) here (model qwen-plus).',
    );
    const long = 'Consider every side of the question at length before answering it. '.repeat(20);
    h.sim.script({ reasoning: long, text: 'Short answer.' });
    await h.app.service.handleMessage(message('think a little'), new RecordingSurface());
    const sent = h.sim.chatRequests().at(-1);
    expect([sent?.enable_thinking, sent?.thinking_budget]).toEqual([true, 16]);
    const usage = await h.app.service.usage.totals({ kind: 'conversation', key: 'test:W1:C1' });
    expect(usage.all.reasoningTokens).toBe(16);
    await run('thinking', 'high');
    await h.app.service.handleMessage(message('think more'), new RecordingSurface());
    expect(h.sim.chatRequests().at(-1)?.thinking_budget).toBe(64);
    await run('thinking', 'max');
    await h.app.service.handleMessage(message('think fully'), new RecordingSurface());
    expect(h.sim.chatRequests().at(-1)?.enable_thinking).toBe(true);
    expect(h.sim.chatRequests().at(-1)).not.toHaveProperty('thinking_budget');
  });

  it('a thinking answer ends with a line saying how long the model thought', async () => {
    // Only the date is faked: the model reasons, the clock moves 12 s, then the answer comes.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      h = await startHarness();
      await run('thinking', 'high');
      let release: () => void = () => undefined;
      const hold = new Promise<void>((resolve) => (release = resolve));
      h.sim.script({ reasoning: 'Weighing it up.', text: 'Decided.', holdAfterChunks: 0, hold });
      const surface = new RecordingSurface();
      const answered = h.app.service.handleMessage(message('decide'), surface);
      await until(() => surface.events.some((e) => e.text === '🤔 Thinking…'), 'the thinking line');
      vi.setSystemTime(Date.now() + 12_000);
      release();
      await answered;
      expect(surface.shown()).toEqual(['Decided.\n\n💭 thought for 12 s']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('with streaming.reasoning "quote" the latest reasoning shows as a quote until the answer starts', async () => {
    h = await startHarness({ config: { streaming: { reasoning: 'quote', minEditIntervalMs: 0 } } });
    await run('thinking', 'on');
    h.sim.script({ reasoning: 'Step one: read. Step two: answer.', text: 'Done.', chunkDelayMs: 3 });
    const surface = new RecordingSurface();
    await h.app.service.handleMessage(message('q'), surface);
    expect(surface.events.some((e) => /^🤔 Thinking…\n> ….*Step/.test(e.text ?? ''))).toBe(true);
    expect(surface.shown()).toEqual(['Done.']);
  });

  it('/search on sends enable_search for models that support it', async () => {
    h = await startHarness();
    expect((await run('search', 'on')).text).toBe('Web search is now on here (model qwen-plus).');
    await h.app.service.handleMessage(message('news?'), new RecordingSurface());
    expect(h.sim.chatRequests().at(-1)?.enable_search).toBe(true);
    await run('model', 'qwen-long');
    expect((await run('search', 'on')).text).toBe('qwen-long does not support web search.');
  });

  it('/system: anyone sees it; only admins change it in channels; anyone in their own DM', async () => {
    h = await startHarness();
    expect((await run('system')).text).toBe('This conversation uses the default system prompt.');
    expect((await run('system', 'Answer like a pirate.')).text).toBe('Only admins can use /system here.');
    expect((await run('system', 'Answer like a pirate.', admin)).text).toBe(
      'System prompt updated for this conversation.',
    );
    await h.app.service.handleMessage(message('hello'), new RecordingSurface());
    expect(h.sim.chatRequests().at(-1)?.messages[0]).toEqual({
      role: 'system',
      content: 'Answer like a pirate.',
    });
    const dm = channelRef('D1', { isDM: true });
    expect((await run('system', 'Be terse.', alice, dm)).text).toBe(
      'System prompt updated for this conversation.',
    );
    expect((await run('system', 'clear', admin)).text).toBe('System prompt reset to the default.');
    expect((await run('system')).text).toBe('This conversation uses the default system prompt.');
  });

  it('/model default:true (admins) sets the workspace default; a conversation choice still wins', async () => {
    h = await startHarness();
    expect((await run('model', 'qwen-turbo default:true')).text).toBe(
      'Only admins can use /model default:true here.',
    );
    expect((await run('model', 'qwen-turbo default:true', admin)).text).toBe(
      'Default model for this workspace is now **qwen-turbo**.',
    );
    await h.app.service.handleMessage(
      message('a', { conversation: channelRef('C7') }),
      new RecordingSurface(),
    );
    expect(h.sim.chatRequests().at(-1)?.model).toBe('qwen-turbo');
    await run('model', 'qwen-max', alice, channelRef('C7'));
    await h.app.service.handleMessage(
      message('b', { conversation: channelRef('C7') }),
      new RecordingSurface(),
    );
    expect(h.sim.chatRequests().at(-1)?.model).toBe('qwen-max');
    expect((await run('model', '', alice, channelRef('C8'))).text).toMatch(
      /^This conversation uses \*\*qwen-turbo\*\*\./,
    );
  });

  it('a model DashScope refuses is reported and the previous one kept', async () => {
    h = await startHarness({ sim: { models: ['qwen-plus', 'qwen-max'] } });
    const reply = await run('model', 'qwen-long');
    expect(reply).toEqual({
      text: 'DashScope refused qwen-long (404 model_not_found); this conversation keeps qwen-plus.',
      ephemeral: true,
    });
    await h.app.service.handleMessage(message('still here?'), new RecordingSurface());
    expect(h.sim.chatRequests().at(-1)?.model).toBe('qwen-plus');
  });
});

describe('usage and quota', () => {
  it('/usage shows this conversation and the caller for today, 7 days and all time; admins also the workspace', async () => {
    h = await startHarness();
    h.sim.setResponder((b) => `answer to ${lastUserText(b)}`);
    await h.app.service.handleMessage(message('one'), new RecordingSurface());
    await h.app.service.handleMessage(message('two'), new RecordingSurface());
    await h.app.service.handleMessage(
      message('elsewhere', { conversation: channelRef('C2') }),
      new RecordingSurface(),
    );
    const mine = (await run('usage')).text.split('\n');
    expect(mine[0]).toBe('**This conversation**');
    expect(mine[1]).toMatch(
      /^Today: 2 answers, \d+ in \(0 cached\) \/ \d+ out \(0 reasoning\) tokens, ≈¥0\.\d{4}$/,
    );
    expect(mine[4]).toBe('**You**');
    expect(mine[5]).toMatch(/^Today: 3 answers/);
    expect(mine[7]).toMatch(/^All time: 3 answers/);
    expect(mine).not.toContain('**Whole workspace**');
    const asAdmin = (await run('usage', '', admin)).text;
    expect(asAdmin).toContain('**Whole workspace**');
    const totals = await h.app.service.usage.totals({ kind: 'user', platform: 'test', id: 'U1' });
    const requests = h.sim.chatRequests();
    expect(totals.all.answers).toBe(requests.length);
    // Cost follows the catalogue's qwen-plus prices (4 in / 12 out per million).
    expect(totals.all.cost).toBeCloseTo(
      (totals.all.promptTokens * 4 + totals.all.completionTokens * 12) / 1e6,
      10,
    );
  });

  it('a daily token quota refuses further messages with a clear line', async () => {
    h = await startHarness({ config: { usage: { dailyTokenQuotaPerUser: 30 } } });
    await h.app.service.handleMessage(message('first question uses tokens'), new RecordingSurface());
    const surface = new RecordingSurface();
    const outcome = await h.app.service.handleMessage(message('second'), surface);
    expect(outcome.status).toBe('refused');
    expect(surface.shown()[0]).toMatch(
      /^You have used your daily token quota \(\d+ of 30\)\. It resets at 00:00 UTC\.$/,
    );
    expect(h.sim.chatRequests()).toHaveLength(1);
  });
});

describe('threads inherit their channel’s choices', () => {
  it('a model and system prompt chosen in a channel apply in its threads; a thread’s own choice wins', async () => {
    h = await startHarness();
    await run('model', 'qwen-max');
    await run('system', 'Be brief.', admin);
    const thread = channelRef('C1', { thread: '1700000000.000100' });
    await h.app.service.handleMessage(
      message('in a thread', { conversation: thread }),
      new RecordingSurface(),
    );
    const first = h.sim.chatRequests().at(-1);
    expect(first?.model).toBe('qwen-max');
    expect(first?.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    await run('model', 'qwen-turbo', alice, thread);
    await h.app.service.handleMessage(message('again', { conversation: thread }), new RecordingSurface());
    expect(h.sim.chatRequests().at(-1)?.model).toBe('qwen-turbo');
    expect((await run('model', '', alice, thread)).text).toMatch(
      /^This conversation uses \*\*qwen-turbo\*\*/,
    );
  });
});
