import { afterEach, describe, expect, it } from 'vitest';
import { lastUserText, SIM_INPUT_TRIGGER, SIM_OUTPUT_TRIGGER } from '../support/dashscope-sim.ts';
import { type Harness, message, startHarness, TEST_API_KEY } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const alice = { id: 'U1', name: 'Alice', isBot: false };
const bob = { id: 'U2', name: 'Bob', isBot: false };

describe('a moderation refusal does not poison the conversation', () => {
  it('after an input refusal, someone else’s clean question in the channel is answered without the flagged text', async () => {
    h = await startHarness();
    h.sim.setResponder((body) => `re: ${lastUserText(body)}`);
    const s = h.app.service;
    const flagged = new RecordingSurface();
    const first = await s.handleMessage(message(`tell me ${SIM_INPUT_TRIGGER}`, { author: alice }), flagged);
    expect(first).toMatchObject({ status: 'error', errorCode: 'moderated' });
    expect(flagged.shown()).toEqual(['⚠️ The provider declined this request (content moderation).']);

    const clean = new RecordingSurface();
    const second = await s.handleMessage(message('what is 2+2?', { author: bob }), clean);
    expect(second.status).toBe('answered');
    expect(clean.shown()).toEqual(['re: Bob: what is 2+2?']);
    const sent = JSON.stringify(h.sim.chatRequests().at(-1)?.messages);
    expect(sent).not.toContain(SIM_INPUT_TRIGGER);
    expect(sent).not.toContain('tell me');

    // The refusal stays in history (what happened is not rewritten), marked so prompts leave it out.
    const turns = await s.history.load('test:W1:C1');
    expect(turns.map((t) => [t.role, t.text, t.status ?? null])).toEqual([
      ['user', `tell me ${SIM_INPUT_TRIGGER}`, null],
      ['assistant', '', 'error'],
      ['user', 'what is 2+2?', null],
      ['assistant', 're: Bob: what is 2+2?', 'complete'],
    ]);
    expect(turns[1]).toMatchObject({ refused: 'input' });
  });

  it('a partial answer cut by output moderation stays visible but never reaches a later prompt', async () => {
    h = await startHarness();
    h.sim.script({ text: `Here is the start of it, then ${SIM_OUTPUT_TRIGGER} the rest.` });
    const s = h.app.service;
    const cut = new RecordingSurface();
    const first = await s.handleMessage(message('write the story', { author: alice }), cut);
    expect(first).toMatchObject({ status: 'error', errorCode: 'moderated' });
    expect(cut.shown()).toEqual([
      'Here is the start of it, then \n\n⚠️ The provider declined this request (content moderation).',
    ]);

    h.sim.setResponder((body) => `re: ${lastUserText(body)}`);
    const clean = new RecordingSurface();
    expect((await s.handleMessage(message('and the weather?', { author: bob }), clean)).status).toBe(
      'answered',
    );
    const sent = JSON.stringify(h.sim.chatRequests().at(-1)?.messages);
    expect(sent).not.toContain('Here is the start');
    expect(sent).not.toContain('write the story');
    expect(sent).toContain('Bob: and the weather?');
    const turns = await s.history.load('test:W1:C1');
    expect(turns[1]).toMatchObject({ role: 'assistant', status: 'error', refused: 'output' });
  });

  it('the simulator refuses when any message of the request, not only the last, carries the trigger', async () => {
    h = await startHarness();
    const res = await fetch(`${h.sim.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'qwen-plus',
        messages: [
          { role: 'user', content: SIM_INPUT_TRIGGER },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'clean' },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('data_inspection_failed');
  });
});
