/**
 * Long documents through the real discord.js client: a PDF is uploaded to the Files API once, the
 * reply shows "📄 Reading …" while it uploads, qwen-long answers with the file id in a system message,
 * follow-ups keep reading it, `/docs` lists it, and `/docs clear`, `/reset` and `/forget` delete it at
 * DashScope.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { t } from '../../src/i18n.ts';
import type { ChatBody } from '../support/dashscope-sim.ts';
import type { FakeChannel, FakeInteraction } from '../support/fake-discord/index.ts';
import { fakePdf } from '../support/fake-pdf.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
const MB = 1024 * 1024;
/** 2.3 MB, as in the example line. */
const REPORT = fakePdf('Quarterly revenue grew 12 percent', Math.round(2.3 * MB));

beforeAll(async () => {
  h = await startDiscordHarness({
    config: { documents: { maxBytes: 3 * MB }, guards: { userMessagesPerWindow: 100 } },
  });
});
afterAll(async () => {
  await h?.close();
});

function fileIdsOf(body: ChatBody | undefined): string[] {
  const refs = (body?.messages ?? []).filter(
    (m) => m.role === 'system' && typeof m.content === 'string' && m.content.startsWith('fileid://'),
  );
  return refs.flatMap((m) => String(m.content).split(',')).map((r) => r.replace('fileid://', ''));
}

async function ask(
  channel: FakeChannel,
  text: string,
  files: ReturnType<DiscordHarness['fake']['addFile']>[] = [],
  author = h.alice,
) {
  const turn = h.expectTurns(1);
  h.fake.say({ author, channelId: channel.id, content: h.mention(text), attachments: files });
  const [outcome] = await turn;
  const shown = h.fake.botMessages(channel.id).at(-1);
  return { outcome, shown, request: h.sim.chatRequests().at(-1) };
}

async function replyOf(it: FakeInteraction): Promise<string> {
  return h.fake.waitFor(
    () => {
      const original = it.originalId ? h.fake.state.findMessage(it.originalId) : undefined;
      return original && original.edits > 0 ? original.content : undefined;
    },
    10_000,
    `reply to interaction ${it.id}`,
  );
}

function report() {
  return h.fake.addFile('report.pdf', REPORT, 'application/pdf');
}

test('a PDF question: uploaded once, a status line while it uploads, qwen-long answers from fileid://', async () => {
  const channel = h.fake.addChannel(h.guild, 'finance');
  const uploadsBefore = h.sim.files.uploads.length;
  const { shown, request } = await ask(channel, 'how did revenue do?', [report()]);
  expect(h.sim.files.uploads.length - uploadsBefore).toBe(1);
  const uploaded = h.sim.files.uploads.at(-1);
  expect(uploaded?.filename).toBe('report.pdf');
  expect(uploaded?.bytes).toBe(REPORT.byteLength);
  // What people saw: the status line first, then the streamed answer in the same message.
  expect(shown?.history[0]).toBe('📄 Reading report.pdf (2.3 MB)…');
  expect(shown?.content).toBe(
    'From report.pdf: "Quarterly revenue grew 12 percent" — about "Alice: how did revenue do?".',
  );
  expect(request?.model).toBe('qwen-long');
  expect(request?.messages[0]?.role).toBe('system');
  expect(request?.messages[1]).toEqual({ role: 'system', content: `fileid://${uploaded?.id}` });
  // The PDF's bytes never went into the prompt.
  expect(JSON.stringify(request?.messages)).not.toContain('Quarterly');

  // A follow-up without the file: same file id, no new upload.
  const follow = await ask(channel, 'and what about costs?');
  expect(h.sim.files.uploads.length - uploadsBefore).toBe(1);
  expect(follow.request?.model).toBe('qwen-long');
  expect(fileIdsOf(follow.request)).toEqual([uploaded?.id]);
  expect(follow.shown?.history.some((v) => v.startsWith('📄'))).toBe(false);

  // The same file posted again: recognised by its hash, not uploaded again.
  const again = await ask(channel, 'read it again', [report()]);
  expect(h.sim.files.uploads.length - uploadsBefore).toBe(1);
  expect(fileIdsOf(again.request)).toEqual([uploaded?.id]);

  // /docs lists it; /docs clear deletes it at DashScope and follow-ups stop referencing it.
  const list = await replyOf(h.fake.slash({ user: h.bob, channelId: channel.id, name: 'docs' }));
  expect(list).toContain('• report.pdf — 2.3 MB, ');
  const cleared = h.fake.slash({
    user: h.bob,
    channelId: channel.id,
    name: 'docs',
    options: { action: 'clear' },
  });
  expect(await replyOf(cleared)).toBe(t('en', 'documents.cleared', { count: 1 }));
  expect(h.sim.files.deletes).toContain(uploaded?.id);
  const after = await ask(channel, 'what did the report say?');
  expect(after.request?.model).toBe(h.config.qwen.defaultModel);
  expect(fileIdsOf(after.request)).toEqual([]);
  const none = await replyOf(h.fake.slash({ user: h.bob, channelId: channel.id, name: 'docs' }));
  expect(none).toBe(t('en', 'documents.none'));
});

test('/reset deletes the conversation’s documents at DashScope; another channel never sees them', async () => {
  const channel = h.fake.addChannel(h.guild, 'board');
  const other = h.fake.addChannel(h.guild, 'lunch');
  await ask(channel, 'summarise', [
    h.fake.addFile('minutes.pdf', fakePdf('Board approved the budget'), 'application/pdf'),
  ]);
  const id = h.sim.files.uploads.at(-1)?.id;
  const elsewhere = await ask(other, 'what was approved?');
  expect(fileIdsOf(elsewhere.request)).toEqual([]);
  expect(elsewhere.request?.model).toBe(h.config.qwen.defaultModel);
  const reset = h.fake.slash({ user: h.alice, channelId: channel.id, name: 'reset' });
  expect(await replyOf(reset)).toBe(t('en', 'reset.done'));
  expect(h.sim.files.deletes).toContain(id);
  const after = await ask(channel, 'what was approved?');
  expect(fileIdsOf(after.request)).toEqual([]);
});

test('an unsupported type and a file over documents.maxBytes get their lines; the question is still answered', async () => {
  const channel = h.fake.addChannel(h.guild, 'slides');
  const uploadsBefore = h.sim.files.uploads.length;
  const pptx = h.fake.addFile(
    'deck.pptx',
    new Uint8Array([0x50, 0x4b, 3, 4, 1, 2, 3]),
    'application/vnd.ms-powerpoint',
  );
  const huge = h.fake.addFile('huge.pdf', fakePdf('too big', 3 * MB + 10), 'application/pdf');
  const { shown, request } = await ask(channel, 'look at these', [pptx, huge]);
  expect(h.sim.files.uploads.length).toBe(uploadsBefore);
  expect(request?.model).toBe(h.config.qwen.defaultModel);
  const types = h.config.documents.types.join(', ');
  expect(shown?.content).toBe(
    [
      'Echo: Alice: look at these',
      '',
      t('en', 'documents.unsupported', { name: 'deck.pptx', types }),
      t('en', 'documents.too_large', { name: 'huge.pdf', size: '3.0 MB', max: '3.0 MB' }),
    ].join('\n'),
  );
});

test('a small text file stays inline; a text file over attachments.maxTurnChars becomes a document', async () => {
  const channel = h.fake.addChannel(h.guild, 'notes');
  const uploadsBefore = h.sim.files.uploads.length;
  const small = await ask(channel, 'check', [
    h.fake.addFile('todo.md', Buffer.from('- ship it'), 'text/markdown'),
  ]);
  expect(h.sim.files.uploads.length).toBe(uploadsBefore);
  expect(JSON.stringify(small.request?.messages)).toContain('- ship it');
  const long = `# Handbook\n${'Rule: be kind. '.repeat(8000)}`;
  expect(long.length).toBeGreaterThan(h.config.attachments.maxTurnChars);
  const big = await ask(channel, 'what is the rule?', [
    h.fake.addFile('handbook.md', Buffer.from(long), 'text/markdown'),
  ]);
  expect(h.sim.files.uploads.at(-1)?.filename).toBe('handbook.md');
  expect(big.request?.model).toBe('qwen-long');
  expect(JSON.stringify(big.request?.messages)).not.toContain('be kind');
});

test('/forget confirm deletes the documents the person posted; a failed deletion is logged and retried', async () => {
  const channel = h.fake.addChannel(h.guild, 'private-docs');
  // Bob has posted nothing else: his /forget reaches this one document, not Alice's.
  await ask(channel, 'keep this', [h.fake.addFile('cv.pdf', fakePdf('Bob CV'), 'application/pdf')], h.bob);
  const id = h.sim.files.uploads.at(-1)?.id ?? '';
  await ask(channel, 'and mine', [h.fake.addFile('alice.pdf', fakePdf('Alice CV'), 'application/pdf')]);
  const alices = h.sim.files.uploads.at(-1)?.id ?? '';
  h.sim.files.deleteFailures.push({ status: 500, code: 'InternalError', message: 'try later' });
  const forget = h.fake.slash({
    user: h.bob,
    channelId: channel.id,
    name: 'forget',
    options: { confirm: 'confirm' },
  });
  await replyOf(forget);
  const docs = h.app.service.documents;
  const left = await docs?.list(`discord:${h.guild.id}:${channel.id}`);
  expect(left?.map((d) => d.fileId)).toEqual([alices]);
  expect(h.sim.files.deletes).not.toContain(id);
  expect(await docs?.pendingDeletions()).toContain(id);
  expect(h.logs.text).toContain('deleting a file at DashScope failed');
  // The retention sweep tries again.
  expect(await docs?.sweep()).toBeGreaterThanOrEqual(1);
  expect(h.sim.files.deletes).toContain(id);
  expect(await docs?.pendingDeletions()).not.toContain(id);
});

test('a /reset while the document uploads: the file is deleted again and never joins the conversation', async () => {
  const channel = h.fake.addChannel(h.guild, 'reset-race');
  let release = () => {};
  h.sim.files.uploadHold = new Promise<void>((resolve) => {
    release = resolve;
  });
  const turn = h.expectTurns(1);
  const file = h.fake.addFile('late.pdf', fakePdf('Arrives after the reset'), 'application/pdf');
  h.fake.say({
    author: h.alice,
    channelId: channel.id,
    content: h.mention('read this'),
    attachments: [file],
  });
  await h.fake.waitFor(
    () => h.fake.botMessages(channel.id)[0]?.content.startsWith('📄 Reading late.pdf'),
    10_000,
    'the status line',
  );
  const reset = h.fake.slash({ user: h.bob, channelId: channel.id, name: 'reset' });
  expect(await replyOf(reset)).toBe(t('en', 'reset.done'));
  release();
  h.sim.files.uploadHold = undefined;
  await turn;
  const id = h.sim.files.uploads.at(-1)?.id;
  expect(h.sim.files.uploads.at(-1)?.filename).toBe('late.pdf');
  expect(h.sim.files.deletes).toContain(id);
  expect(await h.app.service.documents?.list(`discord:${h.guild.id}:${channel.id}`)).toEqual([]);
  const next = await ask(channel, 'anything there?');
  expect(fileIdsOf(next.request)).toEqual([]);
});
