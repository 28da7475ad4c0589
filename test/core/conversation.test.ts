import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DOCUMENT_TYPES } from '../../src/config/documents-schema.ts';
import { HistoryStore } from '../../src/core/history.ts';
import type { Attachment } from '../../src/core/types.ts';
import { lastUserText, SIM_MODERATION_REFUSAL } from '../support/dashscope-sim.ts';
import { until } from '../support/fake-time.ts';
import { channelRef, type Harness, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const file = (name: string, mime: string, bytes: Uint8Array): Attachment => ({
  name,
  mime,
  size: bytes.byteLength,
  load: async () => bytes,
});

describe('ConversationService end to end (real openai SDK → simulator)', () => {
  it('streams the model answer into the surface and stores both turns with the speaker name', async () => {
    h = await startHarness();
    h.sim.script({ text: 'Paris is the capital of France.' });
    const surface = new RecordingSurface();
    const outcome = await h.app.service.handleMessage(message('What is the capital of France?'), surface);
    expect(outcome.status).toBe('answered');
    expect(surface.shown()).toEqual(['Paris is the capital of France.']);
    expect(surface.events[0]).toMatchObject({ kind: 'post', text: '…' });
    const turns = await h.app.service.history.load('test:W1:C1');
    expect(turns.map((t) => [t.role, t.author ?? null, t.text, t.status ?? null])).toEqual([
      ['user', 'Alice', 'What is the capital of France?', null],
      ['assistant', null, 'Paris is the capital of France.', 'complete'],
    ]);
    expect(turns[1]?.usage?.totalTokens).toBeGreaterThan(0);
    // In a channel the model sees who spoke.
    expect(lastUserText(h.sim.chatRequests()[0] ?? { model: '', messages: [] })).toBe(
      'Alice: What is the capital of France?',
    );
  });

  it('keeps several people apart in one channel, and a DM never reaches a channel prompt', async () => {
    h = await startHarness();
    const s = h.app.service;
    await s.handleMessage(
      message('I like oolong', { author: { id: 'U1', name: 'Alice', isBot: false } }),
      new RecordingSurface(),
    );
    await s.handleMessage(
      message('my secret is 4242', { conversation: channelRef('D9', { isDM: true }) }),
      new RecordingSurface(),
    );
    await s.handleMessage(
      message('I like coffee', { author: { id: 'U2', name: 'Bob', isBot: false } }),
      new RecordingSurface(),
    );
    const last = h.sim.chatRequests().at(-1);
    const seen = JSON.stringify(last?.messages);
    expect(seen).toContain('Alice: I like oolong');
    expect(seen).toContain('Bob: I like coffee');
    expect(seen).not.toContain('4242');
    const dm = h.sim.chatRequests()[1];
    expect(JSON.stringify(dm?.messages)).not.toContain('oolong');
    // DM turns carry no name prefix.
    expect(lastUserText(dm ?? { model: '', messages: [] })).toBe('my secret is 4242');
  });

  it('answers one conversation in arrival order while other conversations run in parallel', async () => {
    h = await startHarness();
    h.sim.setResponder((body) => `re: ${lastUserText(body)}`);
    const s = h.app.service;
    const surfaces = [new RecordingSurface(), new RecordingSurface(), new RecordingSurface()];
    h.sim.script({
      text: 'slow first',
      firstTokenDelayMs: 200,
      match: (b) => lastUserText(b).endsWith('one'),
    });
    const a = s.handleMessage(message('one'), surfaces[0] as RecordingSurface);
    const b = s.handleMessage(message('two'), surfaces[1] as RecordingSurface);
    const c = s.handleMessage(
      message('elsewhere', { conversation: channelRef('C2') }),
      surfaces[2] as RecordingSurface,
    );
    await Promise.all([a, b, c]);
    const order = h.sim.chatRequests().map((r) => lastUserText(r));
    expect(order.indexOf('Alice: elsewhere')).toBeLessThan(order.indexOf('Alice: two'));
    const turns = await s.history.load('test:W1:C1');
    expect(turns.map((t) => t.text)).toEqual(['one', 'slow first', 'two', 're: Alice: two']);
  });

  it('a model error mid-stream keeps the partial text, adds the error line, and stores the partial', async () => {
    h = await startHarness();
    h.sim.script({ text: 'The first part arrives, then the server fails.', errorAfterChunks: 3 });
    const surface = new RecordingSurface();
    const outcome = await h.app.service.handleMessage(message('tell me'), surface);
    expect(outcome).toMatchObject({ status: 'error', errorCode: 'server' });
    expect(surface.shown()).toEqual([
      'The first part arr\n\n⚠️ The model service had a problem. Please try again.',
    ]);
    const turns = await h.app.service.history.load('test:W1:C1');
    expect(turns.at(-1)).toMatchObject({ role: 'assistant', text: 'The first part arr', status: 'error' });
    const log = h.logs.records().find((r) => r.msg === 'answer failed');
    expect(log?.qwen).toMatchObject({ code: 'server', providerCode: 'internal_error' });
  });

  it('answers in Chinese when the user locale is Chinese', async () => {
    h = await startHarness();
    h.sim.script({
      error: SIM_MODERATION_REFUSAL,
    });
    const surface = new RecordingSurface();
    await h.app.service.handleMessage(
      message('敏感问题', { author: { id: 'U1', name: '小王', isBot: false, locale: 'zh-CN' } }),
      surface,
    );
    expect(surface.shown()).toEqual(['⚠️ 服务方拒绝了此请求（内容审核）。']);
    // The user's words are kept even though the provider refused.
    expect((await h.app.service.history.load('test:W1:C1'))[0]?.text).toBe('敏感问题');
  });

  it('retries with much less history when the context is too long', async () => {
    h = await startHarness();
    const s = h.app.service;
    for (let i = 0; i < 6; i++)
      await s.handleMessage(message(`message ${i} ${'x'.repeat(200)}`), new RecordingSurface());
    h.sim.script(
      {
        error: {
          status: 400,
          code: 'invalid_parameter_error',
          message: 'Range of input length should be [1, 30720]',
        },
      },
      { text: 'fits now' },
    );
    const surface = new RecordingSurface();
    await s.handleMessage(message('final question'), surface);
    expect(surface.shown()).toEqual(['fits now']);
    const [tooLong, retried] = h.sim.chatRequests().slice(-2);
    expect(retried?.messages.length ?? 0).toBeLessThanOrEqual(tooLong?.messages.length ?? 0);
  });

  it('/model switches this conversation only, and the choice survives a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-test-'));
    const storeUrl = `sqlite://${path.join(dir, 'bot.sqlite')}`;
    h = await startHarness({ storeUrl });
    const sim = h.sim;
    const surface = new RecordingSurface();
    await h.app.service.handleMessage(message('/model qwen-max'), surface);
    expect(surface.shown()).toEqual(['Switched this conversation to **qwen-max**.']);
    await h.app.close();
    h = await startHarness({ storeUrl, reuseSim: sim });
    await h.app.service.handleMessage(message('after restart'), new RecordingSurface());
    await h.app.service.handleMessage(
      message('other channel', { conversation: channelRef('C2') }),
      new RecordingSurface(),
    );
    const [here, other] = sim.chatRequests().slice(-2);
    expect(here?.model).toBe('qwen-max');
    expect(other?.model).toBe('qwen-plus');
    await sim.close();
  });

  it('/reset clears history; /model with an unknown name suggests close names; bad args get usage', async () => {
    h = await startHarness();
    const s = h.app.service;
    await s.handleMessage(message('remember me'), new RecordingSurface());
    const reset = await s.runCommand({
      name: 'reset',
      conversation: channelRef(),
      author: { id: 'U1', name: 'Alice', isBot: false },
    });
    expect(reset.text).toBe('History cleared for this conversation.');
    expect(await s.history.load('test:W1:C1')).toEqual([]);
    const unknown = await s.runCommand({
      name: 'model',
      rawArgs: 'Qwen-Plus',
      conversation: channelRef(),
      author: { id: 'U1', name: 'A', isBot: false },
    });
    expect(unknown).toEqual({
      text: expect.stringMatching(/^Unknown model "Qwen-Plus". Did you mean: qwen-plus/),
      ephemeral: true,
    });
    const tooMany = await s.runCommand({
      name: 'model',
      rawArgs: 'a true c',
      conversation: channelRef(),
      author: { id: 'U1', name: 'A', isBot: false },
    });
    expect(tooMany.text).toBe('/model: too many arguments. Usage: /model [name] [default]');
    const nope = await s.runCommand({
      name: 'nope',
      conversation: channelRef(),
      author: { id: 'U1', name: 'A', isBot: false },
    });
    expect(nope.text).toBe('Unknown command /nope. Try /help.');
  });

  it('routes an image turn to the vision model and says so; text files join the prompt; others are noted', async () => {
    h = await startHarness();
    h.sim.script({ text: 'A tiny PNG.' });
    const surface = new RecordingSurface();
    const msg = message('what is this?', {
      attachments: [
        file('pic.png', 'image/png', PNG),
        file('notes.md', 'text/markdown', new TextEncoder().encode('# Notes\nremember the milk')),
        file('archive.zip', 'application/zip', Uint8Array.from([1, 2, 3])),
      ],
    });
    await h.app.service.handleMessage(msg, surface);
    const req = h.sim.chatRequests().at(-1);
    expect(req?.model).toBe('qwen-vl-max');
    const content = req?.messages.at(-1)?.content as Array<{
      type: string;
      text?: string;
      image_url?: { url: string };
    }>;
    expect(content[1]?.image_url?.url).toMatch(/^data:image\/png;base64,/);
    expect(content[0]?.text).toContain('remember the milk');
    expect(surface.shown()[0]).toBe(
      // A file that cannot be a document either says which files can (documents.types).
      `A tiny PNG.\n\n📄 archive.zip cannot be read: documents can be ${DOCUMENT_TYPES.join(', ')}.\n(answered by qwen-vl-max, which can see images)`,
    );
  });

  it('Stop ends the answer with a stopped line, keeps the partial text, and only the asker or an admin may stop', async () => {
    h = await startHarness();
    h.sim.script({ text: 'word '.repeat(200), chunkDelayMs: 5, chunkChars: 5 });
    const surface = new RecordingSurface();
    const pending = h.app.service.handleMessage(message('long please'), surface);
    await until(() => surface.transcript().includes('word word'), 'the answer to start');
    const id = surface.events[0]?.id ?? '';
    expect(h.app.service.stop(id, { id: 'U2', name: 'Bob', isBot: false })).toBe(false);
    expect(h.app.service.stop(id, { id: 'U1', name: 'Alice', isBot: false })).toBe(true);
    const outcome = await pending;
    expect(outcome.status).toBe('stopped');
    const shown = surface.shown()[0] ?? '';
    expect(shown).toMatch(/^(word )+\s*\n\n⏹️ Stopped by Alice\.$/);
    const stored = (await h.app.service.history.load('test:W1:C1')).at(-1);
    expect(stored?.status).toBe('stopped');
    expect(stored?.text.length).toBeLessThan(1000);
  });

  it('ignores bots, unaddressed messages and duplicate deliveries; over-limit users get one line', async () => {
    h = await startHarness({ config: { guards: { userMessagesPerWindow: 2, userWindowSeconds: 60 } } });
    const s = h.app.service;
    const bot = await s.handleMessage(
      message('hi', { author: { id: 'B', name: 'Bot', isBot: true } }),
      new RecordingSurface(),
    );
    expect(bot).toEqual({ status: 'ignored', reason: 'bot author' });
    expect((await s.handleMessage(message('hi', { addressed: false }), new RecordingSurface())).status).toBe(
      'ignored',
    );
    const dup = message('once');
    await s.handleMessage(dup, new RecordingSurface());
    expect(await s.handleMessage({ ...dup }, new RecordingSurface())).toEqual({
      status: 'ignored',
      reason: 'duplicate',
    });
    await s.handleMessage(message('two'), new RecordingSurface());
    const limited = new RecordingSurface();
    const third = await s.handleMessage(message('three'), limited);
    expect(third.status).toBe('refused');
    expect(limited.shown()[0]).toMatch(/^You are sending messages too fast; please wait \d+s\.$/);
    const fourth = new RecordingSurface();
    expect((await s.handleMessage(message('four'), fourth)).status).toBe('ignored');
    expect(fourth.shown()).toEqual([]);
    expect(h.sim.chatRequests()).toHaveLength(2);
  });

  it('refuses empty and oversized messages with a short line, without calling the model', async () => {
    h = await startHarness({ config: { guards: { maxMessageChars: 100 } } });
    const empty = new RecordingSurface();
    await h.app.service.handleMessage(message('   '), empty);
    expect(empty.shown()).toEqual(['Ask me something after the mention, or try /help.']);
    const big = new RecordingSurface();
    await h.app.service.handleMessage(message('x'.repeat(150)), big);
    expect(big.shown()).toEqual(['Your message is too long (150 characters; at most 100).']);
    expect(h.sim.chatRequests()).toHaveLength(0);
  });

  it('honours allow and deny lists', async () => {
    h = await startHarness({ config: { guards: { allowChannels: ['C1'], denyUsers: ['U666'] } } });
    const s = h.app.service;
    expect(
      (await s.handleMessage(message('x', { conversation: channelRef('C2') }), new RecordingSurface()))
        .status,
    ).toBe('ignored');
    expect(
      (
        await s.handleMessage(
          message('x', { author: { id: 'U666', name: 'M', isBot: false } }),
          new RecordingSurface(),
        )
      ).status,
    ).toBe('ignored');
    expect(
      (
        await s.handleMessage(
          message('dm ok', { conversation: channelRef('D1', { isDM: true }) }),
          new RecordingSurface(),
        )
      ).status,
    ).toBe('answered');
    expect((await s.handleMessage(message('x'), new RecordingSurface())).status).toBe('answered');
  });

  it('history is capped and stored under a versioned key', async () => {
    h = await startHarness({ config: { history: { maxTurns: 4 } } });
    for (let i = 0; i < 4; i++) await h.app.service.handleMessage(message(`q${i}`), new RecordingSurface());
    // Four turns kept, one key each, under the versioned prefix (the four before them deleted).
    const meta = await h.app.store.get<{ head: number; next: number }>(HistoryStore.metaKey('test:W1:C1'));
    expect(meta).toMatchObject({ head: 4, next: 8, generation: expect.any(String) });
    const raw = await h.app.store.getMany([0, 3, 4, 7].map((seq) => HistoryStore.turnKey('test:W1:C1', seq)));
    expect(raw[0]).toBeUndefined();
    expect(raw[1]).toBeUndefined();
    expect(raw[2]).toMatchObject({ role: 'user', text: 'q2' });
    expect(raw[3]).toMatchObject({ role: 'assistant' });
    const turns = await h.app.service.history.load('test:W1:C1');
    expect(turns.map((t) => t.text).filter((t) => t.startsWith('q'))).toEqual(['q2', 'q3']);
  });
});
