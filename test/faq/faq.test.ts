import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { sendConsoleMessage } from '../../adapters/console/index.ts';
import type { Author, CommandResult, ConversationRef } from '../../src/core/types.ts';
import { FaqFileError } from '../../src/faq/loader.ts';
import type { DashScopeSim } from '../support/dashscope-sim.ts';
import { channelRef, type Harness, message, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ALICE: Author = { id: 'U1', name: 'Alice', isBot: false };
const ADMIN: Author = { id: 'U9', name: 'Ops', isBot: false, isAdmin: true };
const DM = channelRef('D1', { isDM: true });

/** A private copy of the shipped FAQ, so a test may edit it. */
function faqCopy(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-faq-')), 'faq.yaml');
  copyFileSync(path.resolve('config/faq.yaml'), file);
  return file;
}

async function start(faq: Record<string, unknown> = {}, extra: Parameters<typeof startHarness>[0] = {}) {
  h = await startHarness({ ...extra, config: { faq: { watch: false, ...faq } } });
  await h.app.faq.ready();
  return h;
}

function faqCmd(
  question: string,
  opts: { author?: Author; conversation?: ConversationRef; locale?: string } = {},
): Promise<CommandResult> {
  if (!h) throw new Error('no harness');
  return h.app.service.runCommand({
    name: 'faq',
    rawArgs: question,
    author: opts.author ?? ALICE,
    conversation: opts.conversation ?? channelRef(),
    ...(opts.locale ? { locale: opts.locale } : {}),
  });
}

/** Embedding requests the simulator has seen, and how many texts they carried. */
function embeddingCalls(sim: DashScopeSim, since = 0) {
  const calls = sim.requests.slice(since).filter((r) => r.path.endsWith('/embeddings'));
  return {
    requests: calls.length,
    inputs: calls.reduce((n, r) => n + (r.body.input as string[]).length, 0),
    maxBatch: Math.max(0, ...calls.map((r) => (r.body.input as string[]).length)),
  };
}

describe('/faq against the simulator (real QwenClient, real store)', () => {
  it('answers a close paraphrase with the entry, its question and score, ephemeral in a channel', async () => {
    await start();
    const reply = await faqCmd('reset conversation please');
    expect(reply).toEqual({
      text:
        '**How do I reset the conversation?** (FAQ match 0.82)\n\n' +
        "Use `/reset` in the channel, thread or DM. It forgets that conversation's history only; other channels, threads and DMs keep theirs.",
      ephemeral: true,
    });
  });

  it('answers in Chinese, plain in a DM', async () => {
    await start();
    const reply = await faqCmd('怎么切换模型', { conversation: DM, locale: 'zh-CN' });
    expect(reply.ephemeral).toBe(false);
    expect(reply.text).toBe(
      '**如何切换模型？**（FAQ 匹配度 0.64）\n\n`/model` 显示当前模型和可用模型列表；`/model qwen-max` 切换本对话使用的模型，重启后依然有效。',
    );
  });

  it('offers "did you mean" in the middle band and a clear "no match" below it', async () => {
    await start();
    const middle = await faqCmd('upload images and files');
    expect(middle.text.split('\n')).toEqual([
      'No FAQ entry matches "upload images and files" closely. Did you mean:',
      '1. Can the bot read images and files? (0.58)',
      'Ask again with one of these questions.',
    ]);
    const none = await faqCmd('What is the capital of France?');
    expect(none.text).toBe(
      'No FAQ entry matches "What is the capital of France?". Try other words, or mention me to ask the model.',
    );
    const zh = await faqCmd('给我讲个笑话', { locale: 'zh' });
    expect(zh.text).toBe('没有与“给我讲个笑话”匹配的 FAQ 条目。请换个说法，或提及我直接向模型提问。');
  });

  it('works as a typed message in the terminal, and /help lists it', async () => {
    await start();
    let out = '';
    const output = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const io = { service: h?.app.service as Harness['app']['service'], output, errors: output };
    await sendConsoleMessage(io, '/faq how can I reset this conversation');
    expect(out).toMatch(/^\*\*How do I reset the conversation\?\*\* \(FAQ match 0\.82\)\n\nUse `\/reset`/);
    const surface = new RecordingSurface();
    await h?.app.service.handleMessage(message('/help'), surface);
    expect(surface.shown()[0]).toContain(
      '`/faq <question>` — Look up the FAQ by meaning (admins: "/faq reload" re-reads it)',
    );
    const missing = await faqCmd('');
    expect(missing.text).toBe('/faq: missing question. Usage: /faq <question>');
  });

  it('with generateFallback, a no-match question gets a model answer grounded on the closest entries, labelled', async () => {
    await start({ generateFallback: true, ephemeralInChannels: false });
    h?.sim.script({ text: 'Use /reset to start over.' });
    const reply = await faqCmd('start over from scratch');
    expect(reply.ephemeral).toBe(false);
    expect(reply.text).toBe(
      '🤖 No FAQ entry matches; this answer was generated by the model from the closest entries and may be wrong:\n\n' +
        'Use /reset to start over.',
    );
    const request = h?.sim.chatRequests().at(-1);
    expect(request?.messages.at(-1)).toEqual({ role: 'user', content: 'start over from scratch' });
    expect(String(request?.messages[0]?.content)).toMatch(/using only these FAQ entries[\s\S]*Q: /);
  });
});

describe('FAQ index: embeddings, cache and reload', () => {
  it('faq.enabled: false offers no /faq and embeds nothing', async () => {
    await start({ enabled: false });
    expect(h?.app.service.commands().map((c) => c.name)).not.toContain('faq');
    expect((await faqCmd('reset conversation please')).text).toBe('Unknown command /faq. Try /help.');
    expect(embeddingCalls(h?.sim as DashScopeSim).requests).toBe(0);
  });

  it('embeds every phrasing in batches of at most 10; a restart makes no embedding call; a change embeds exactly one', async () => {
    const file = faqCopy();
    const dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-faq-store-'));
    const storeUrl = `sqlite://${path.join(dir, 'bot.sqlite')}`;
    const first = await start({ path: file }, { storeUrl });
    const sim = first.sim;
    const cold = embeddingCalls(sim);
    expect(cold).toEqual({ requests: 4, inputs: 32, maxBatch: 10 });
    expect(first.logs.records().find((r) => r.msg === 'faq: index ready')).toMatchObject({
      entries: 12,
      phrasings: 32,
      embedded: 32,
    });
    await first.app.close();

    const before = sim.requests.length;
    await start({ path: file }, { storeUrl, reuseSim: sim });
    expect(embeddingCalls(sim, before).requests).toBe(0);

    writeFileSync(file, readFileSync(file, 'utf8').replace('Cancel a long reply', 'Abort a runaway reply'));
    const denied = await faqCmd('reload');
    expect(denied).toEqual({ text: 'Only admins can reload the FAQ.', ephemeral: true });
    const mark = sim.requests.length;
    const reloaded = await faqCmd('reload', { author: ADMIN });
    expect(reloaded.text).toBe('FAQ reloaded: 12 entries, 32 phrasings, 1 newly embedded.');
    expect(embeddingCalls(sim, mark)).toEqual({ requests: 1, inputs: 1, maxBatch: 1 });
    expect((await faqCmd('abort runaway reply')).text).toMatch(
      /^\*\*How do I stop an answer that is still being written\?\*\*/,
    );
    await sim.close();
  });

  it('a malformed file stops start-up; at reload it is reported and the previous FAQ stays', async () => {
    const file = faqCopy();
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n- question: [unclosed\n  answer: x\n`);
    await expect(startHarness({ config: { faq: { path: file, watch: false } } })).rejects.toThrow(
      FaqFileError,
    );

    const good = faqCopy();
    await start({ path: good });
    writeFileSync(good, '- question: ok\n  answer: fine\n  tagz: [x]\n');
    const reply = await faqCmd('reload', { author: ADMIN });
    expect(reply.text).toBe(
      `FAQ reload failed: FAQ ${good}:3: unknown key "tagz" (expected question, answer, alternatives, tags). The previous FAQ is still in use.`,
    );
    expect((await faqCmd('reset conversation please')).text).toMatch(
      /^\*\*How do I reset the conversation\?\*\*/,
    );
  });

  it('when embedding fails at start-up the bot still starts; /faq says why, and an empty FAQ says so', async () => {
    h = await startHarness({
      config: { qwen: { embeddingModel: 'text-embedding-v9' }, faq: { watch: false } },
    });
    await h.app.faq.ready();
    expect(h.logs.records().some((r) => r.msg === 'faq: indexing failed; /faq will retry')).toBe(true);
    const reply = await faqCmd('reset conversation please');
    expect(reply).toEqual({
      text: '⚠️ The model text-embedding-v9 is not available right now.',
      ephemeral: true,
    });
    await h.close();

    const empty = faqCopy();
    writeFileSync(empty, '# nothing yet\n');
    await start({ path: empty });
    expect((await faqCmd('anything')).text).toBe('The FAQ has no entries yet.');
  });

  it('re-indexes by itself when the file changes', async () => {
    const file = faqCopy();
    await start({ path: file, watch: true });
    writeFileSync(file, '- question: Where is the coffee machine?\n  answer: Second floor, by the stairs.\n');
    await expect
      .poll(() => h?.app.faq.entries.map((e) => e.question), { timeout: 5000, interval: 50 })
      .toEqual(['Where is the coffee machine?']);
    expect((await faqCmd('where is the coffee machine')).text).toBe(
      '**Where is the coffee machine?** (FAQ match 1.00)\n\nSecond floor, by the stairs.',
    );
  });

  it('a folder of Markdown files works as the FAQ', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-faq-md-'));
    writeFileSync(
      path.join(dir, 'vpn.md'),
      '---\nquestion: How do I connect to the VPN?\nalternatives: [VPN setup guide]\n---\nOpen the VPN app and sign in.\n',
    );
    writeFileSync(
      path.join(dir, 'wifi.md'),
      '---\nquestion: 办公室无线网络密码是什么？\n---\n请到前台询问。\n',
    );
    await start({ path: dir });
    expect((await faqCmd('vpn setup')).text).toMatch(/^\*\*How do I connect to the VPN\?\*\* \(FAQ match/);
    expect((await faqCmd('无线网络密码', { locale: 'zh' })).text).toMatch(
      /^\*\*办公室无线网络密码是什么？\*\*/,
    );
  });
});
