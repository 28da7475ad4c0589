/**
 * Long documents through Bolt: a PDF shared in a DM is uploaded once and answered by qwen-long from
 * `fileid://`, with "📄 Reading …" shown while it uploads; a follow-up reads the same file; `/qwen docs`
 * lists it and `/qwen docs clear` deletes it at DashScope. Where the region has no Files API, or no
 * qwen-long, the reply says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { t } from '../../src/i18n.ts';
import { DEFAULT_MODELS } from '../../src/sim/sim-wire.ts';
import { fakePdf } from '../support/fake-pdf.ts';
import { slash } from '../support/fake-slack/index.ts';
import { ALICE, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

const DM = 'D0ALICE';
const REPORT = fakePdf('Churn fell to 2 percent in Q3', 200_000);

async function command(text: string): Promise<string> {
  const before = rig.fake.responses.length;
  await rig.send.command(slash(rig.fake, { user: ALICE, channel: DM, text }));
  await rig.deliver({ ts: '', message: {}, deliveries: [] });
  const reply = rig.fake.responses.slice(before)[0]?.body as { text?: string } | undefined;
  return (reply?.text ?? '').replace(/\u200b/g, '');
}

function botMessages() {
  return rig.fake.channel(DM).filter((m) => m.bot);
}

function fileIds(n: number): string[] {
  const messages = rig.sim.chatRequests()[n]?.messages ?? [];
  return messages
    .filter((m) => m.role === 'system' && String(m.content).startsWith('fileid://'))
    .map((m) => String(m.content));
}

describe('documents in Slack', () => {
  it('a PDF in a DM: one upload, the status line, qwen-long with fileid://; follow-up, /qwen docs, clear', async () => {
    rig = await startRig();
    const file = rig.fake.addFile('report.pdf', 'application/pdf', Buffer.from(REPORT));
    await rig.deliver(rig.say({ channel: DM, text: 'what happened to churn?', files: [file] }));
    expect(rig.sim.files.uploads).toHaveLength(1);
    const id = rig.sim.files.uploads[0]?.id;
    const first = rig.sim.chatRequests()[0];
    expect(first?.model).toBe('qwen-long');
    expect(fileIds(0)).toEqual([`fileid://${id}`]);
    const [reply] = botMessages();
    // Every version the message had: the placeholder, the status line while uploading, then the answer.
    const versions = rig.fake.ws.find(DM, reply?.ts ?? '')?.versions ?? [];
    expect(versions.slice(0, 2)).toEqual(['…', '📄 Reading report.pdf (195 KB)…']);
    expect(reply?.text).toContain('From report.pdf: "Churn fell to 2 percent in Q3"');

    await rig.deliver(rig.say({ channel: DM, text: 'and in Q4?' }));
    expect(rig.sim.files.uploads).toHaveLength(1);
    expect(rig.sim.chatRequests()[1]?.model).toBe('qwen-long');
    expect(fileIds(1)).toEqual([`fileid://${id}`]);

    expect(await command('docs')).toContain('• report.pdf — 195 KB, ');
    expect(await command('docs clear')).toBe(t('en', 'documents.cleared', { count: 1 }));
    expect(rig.sim.files.deletes).toEqual([id]);
    await rig.deliver(rig.say({ channel: DM, text: 'and now?' }));
    expect(rig.sim.chatRequests()[2]?.model).toBe(rig.app.config.qwen.defaultModel);
    expect(fileIds(2)).toEqual([]);
  });

  it('a region without the Files API: the line says documents are not offered here, the question is answered', async () => {
    rig = await startRig({ sim: { files: false } });
    const file = rig.fake.addFile('report.pdf', 'application/pdf', Buffer.from(REPORT));
    await rig.deliver(rig.say({ channel: DM, text: 'summarise', files: [file] }));
    expect(rig.sim.files.uploads).toHaveLength(0);
    expect(rig.sim.chatRequests()[0]?.model).toBe(rig.app.config.qwen.defaultModel);
    const shown = botMessages().at(-1)?.text ?? '';
    expect(shown).toContain('Echo: summarise');
    expect(shown).toContain(t('en', 'documents.unavailable', { name: 'report.pdf', model: 'qwen-long' }));
  });

  it('a region without qwen-long (model 404): the line says so instead of a bare model error', async () => {
    rig = await startRig({ sim: { models: DEFAULT_MODELS.filter((m) => m !== 'qwen-long') } });
    const file = rig.fake.addFile('report.pdf', 'application/pdf', Buffer.from(REPORT));
    await rig.deliver(rig.say({ channel: DM, text: 'summarise', files: [file] }));
    expect(rig.sim.chatRequests()[0]?.model).toBe('qwen-long');
    const shown = botMessages().at(-1)?.text ?? '';
    expect(shown).toContain(
      `⚠️ ${t('en', 'documents.unavailable', { name: 'report.pdf', model: 'qwen-long' })}`,
    );
  });
});

describe('several documents', () => {
  it('two documents in one message: two uploads, one system message with both ids, both quoted', async () => {
    rig = await startRig();
    const a = rig.fake.addFile('a.pdf', 'application/pdf', Buffer.from(fakePdf('Alpha figures')));
    const b = rig.fake.addFile('b.xlsx', 'application/vnd.ms-excel', Buffer.from('PK-sheet Beta totals'));
    await rig.deliver(rig.say({ channel: DM, text: 'compare them', files: [a, b] }));
    const ids = rig.sim.files.uploads.map((u) => u.id);
    expect(rig.sim.files.uploads.map((u) => u.filename)).toEqual(['a.pdf', 'b.xlsx']);
    expect(fileIds(0)).toEqual([ids.map((id) => `fileid://${id}`).join(',')]);
    const shown = botMessages().at(-1)?.text ?? '';
    expect(shown).toContain('a.pdf: "Alpha figures"');
    expect(shown).toContain('b.xlsx: "PK-sheet Beta totals"');
  });
});
