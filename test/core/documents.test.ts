/**
 * The documents ledger against the simulator's Files API (real openai SDK): files whose conversation's
 * retention ran out are deleted at DashScope by the sweep, a question answered from a document keeps it
 * alive, and a deletion that fails is kept and tried again, not lost.
 */
import OpenAI from 'openai';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { type DocumentRecord, DocumentStore } from '../../src/core/documents.ts';
import { QwenFiles } from '../../src/qwen/files.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { silentLogger } from '../support/harness.ts';

const DAY = 86_400_000;
let sim: DashScopeSim;
let store: Store;
let now = 0;
let docs: DocumentStore;
let files: QwenFiles;

beforeEach(async () => {
  sim = await startDashScopeSim({ apiKey: 'sk-docs' });
  store = await createStore('sqlite://:memory:');
  now = Date.UTC(2026, 0, 1);
  files = new QwenFiles(new OpenAI({ apiKey: 'sk-docs', baseURL: sim.baseUrl, maxRetries: 0 }));
  docs = new DocumentStore({ store, files, retentionMs: 30 * DAY, now: () => now, log: silentLogger() });
});
afterEach(async () => {
  await store.disconnect();
  await sim.close();
});

async function upload(name: string, text: string): Promise<DocumentRecord> {
  const file = await files.upload(name, new TextEncoder().encode(text));
  return { hash: `h-${name}`, fileId: file.id, name, bytes: file.bytes, at: now, authorId: 'U1' };
}

test('the sweep deletes at DashScope the files of conversations whose retention ran out', async () => {
  const old = await upload('old.md', '# old');
  await docs.add('slack:T1:C1', [old]);
  now += 20 * DAY;
  const used = await upload('used.md', '# used');
  await docs.add('slack:T1:C2', [used]);
  expect(await docs.sweep()).toBe(0);
  now += 11 * DAY;
  // C1's document is 31 days old; C2's is 11 days old.
  expect(await docs.sweep()).toBe(1);
  expect(sim.files.deletes).toEqual([old.fileId]);
  expect(await docs.list('slack:T1:C1')).toEqual([]);
  // A follow-up answered from C2's document keeps it another 30 days.
  await docs.add('slack:T1:C2', []);
  now += 25 * DAY;
  expect(await docs.sweep()).toBe(0);
  now += 6 * DAY;
  expect(await docs.sweep()).toBe(1);
  expect(sim.files.deletes).toEqual([old.fileId, used.fileId]);
});

test('a deletion that fails is kept, logged and tried again by the next sweep', async () => {
  const doc = await upload('a.md', '# a');
  await docs.add('discord:G:C', [doc]);
  sim.files.deleteFailures.push({ status: 503, code: 'ServiceUnavailable', message: 'busy' });
  expect(await docs.clear('discord:G:C')).toBe(1);
  expect(sim.files.deletes).toEqual([]);
  expect(await docs.pendingDeletions()).toEqual([doc.fileId]);
  sim.files.deleteFailures.push({ status: 500, code: 'InternalError', message: 'still busy' });
  expect(await docs.sweep()).toBe(0);
  expect(await docs.pendingDeletions()).toEqual([doc.fileId]);
  expect(await docs.sweep()).toBe(1);
  expect(sim.files.deletes).toEqual([doc.fileId]);
  expect(await docs.pendingDeletions()).toEqual([]);
});

test('the same file added twice to one conversation keeps one entry and deletes the extra upload', async () => {
  const first = await upload('r.md', '# r');
  const second = { ...(await upload('r.md', '# r')), hash: first.hash };
  await docs.add('discord:G:C', [first]);
  const list = await docs.add('discord:G:C', [second]);
  expect(list.map((d) => d.fileId)).toEqual([first.fileId]);
  expect(sim.files.deletes).toEqual([second.fileId]);
});

test('the simulator describes an upload as DashScope does, and forgets it once deleted', async () => {
  const sdk = new OpenAI({ apiKey: 'sk-docs', baseURL: sim.baseUrl, maxRetries: 0 });
  const doc = await upload('notes.md', '# notes');
  const described = await sdk.files.retrieve(doc.fileId);
  expect(described).toMatchObject({ id: doc.fileId, object: 'file', bytes: 7, filename: 'notes.md' });
  expect(described).toMatchObject({ purpose: 'file-extract', status: 'processed' });
  await files.remove(doc.fileId);
  await expect(sdk.files.retrieve(doc.fileId)).rejects.toMatchObject({ status: 404 });
  // A chat naming a file that is gone is refused, as DashScope does (400).
  const chat = sdk.chat.completions.create({
    model: 'qwen-long',
    messages: [
      { role: 'system', content: 'You are helpful.' },
      { role: 'system', content: `fileid://${doc.fileId}` },
      { role: 'user', content: 'what is in it?' },
    ],
  });
  await expect(chat).rejects.toMatchObject({ status: 400 });
});
