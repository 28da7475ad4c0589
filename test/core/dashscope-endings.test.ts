import { afterEach, describe, expect, it } from 'vitest';
import { channelRef, type Harness, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const alice = { id: 'U1', name: 'Alice', isBot: false };

describe('how DashScope-side endings look to the user', () => {
  it('an answer cut at the output limit (finish_reason length) says so instead of looking complete', async () => {
    h = await startHarness();
    h.sim.script({ text: 'The three reasons are: first, the cost; second,', finishReason: 'length' });
    const surface = new RecordingSurface();
    const outcome = await h.app.service.handleMessage(message('why?'), surface);
    expect(outcome.status).toBe('answered');
    expect(surface.shown()).toEqual([
      'The three reasons are: first, the cost; second,\n\n✂️ (Cut at the output limit: the answer is incomplete.)',
    ]);
    // What is stored is the model's text, not the bot's note.
    const stored = (await h.app.service.history.load('test:W1:C1')).at(-1);
    expect(stored).toMatchObject({ text: 'The three reasons are: first, the cost; second,' });
  });

  it('the same in Chinese', async () => {
    h = await startHarness();
    h.sim.script({ text: '原因有三：第一，', finishReason: 'length' });
    const surface = new RecordingSurface();
    await h.app.service.handleMessage(
      message('为什么？', { author: { ...alice, locale: 'zh-CN' } }),
      surface,
    );
    expect(surface.shown()).toEqual(['原因有三：第一，\n\n✂️（已达到输出上限，回答不完整。）']);
  });

  it('insufficient_quota is asked once and gets its own line; the operator gets an error log', async () => {
    h = await startHarness();
    const n = h.sim.chatRequests().length;
    h.sim.script({
      error: {
        status: 429,
        code: 'insufficient_quota',
        message: 'You exceeded your current quota, please check your plan and billing details.',
      },
    });
    const surface = new RecordingSurface();
    const outcome = await h.app.service.handleMessage(message('hello'), surface);
    expect(outcome).toMatchObject({ status: 'error', errorCode: 'quota_exhausted' });
    expect(surface.shown()).toEqual([
      '⚠️ The bot’s model account has used up its quota, so it cannot answer for now. An operator has been alerted.',
    ]);
    expect(h.sim.chatRequests().length - n).toBe(1);
    const log = h.logs.records().find((r) => r.msg === 'model account problem: operator action needed');
    expect(log?.qwen).toMatchObject({ code: 'quota_exhausted', providerCode: 'insufficient_quota' });
  });

  it('/model keeps the current model and says why when the check fails for a reason other than 403/404', async () => {
    h = await startHarness();
    const s = h.app.service;
    const e500 = { error: { status: 500, code: 'internal_error' } };
    h.sim.script(e500, e500, e500);
    const result = await s.runCommand({
      name: 'model',
      rawArgs: 'qwen-max',
      conversation: channelRef(),
      author: alice,
    });
    expect(result.text).toBe(
      'Could not check qwen-max with DashScope (500 internal_error); this conversation keeps qwen-plus. Try again.',
    );
    expect(await s.modelFor(channelRef())).toBe('qwen-plus');
    // Once DashScope answers, the switch goes through.
    const again = await s.runCommand({
      name: 'model',
      rawArgs: 'qwen-max',
      conversation: channelRef(),
      author: alice,
    });
    expect(again.text).toBe('Switched this conversation to **qwen-max**.');
    expect(await s.modelFor(channelRef())).toBe('qwen-max');
  });
});
