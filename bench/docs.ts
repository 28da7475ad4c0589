/**
 * Long documents against the simulator: the time from a question to the first visible answer text,
 * for a question with a 5 MB PDF (uploaded through the Files API, then answered by qwen-long from
 * `fileid://`) and for the same question without one. The difference is what the document costs the
 * asker before the first token: the download here is in memory, so it is the upload (multipart to the
 * Files API), the hash and the extra store writes. A follow-up in the same conversation reuses the file.
 */
import { pino } from 'pino';
import { createApp } from '../src/app.ts';
import type { Attachment } from '../src/core/types.ts';
import { startDashScopeSim } from '../src/sim/dashscope-sim.ts';
import { fakePdf } from '../test/support/fake-pdf.ts';
import { channelRef, message, TEST_API_KEY, testConfig, UNPACED_MODELS } from '../test/support/harness.ts';
import { RecordingSurface } from '../test/support/recording-surface.ts';

const RUNS = 8;
const PDF_BYTES = 5 * 1024 * 1024;

function pdfAttachment(run: number): Attachment {
  // Different bytes every run: each conversation uploads its own file.
  const bytes = fakePdf(`Run ${run}: revenue grew ${run} percent`, PDF_BYTES);
  return { name: 'report.pdf', mime: 'application/pdf', size: bytes.byteLength, load: async () => bytes };
}

/** ms from the question to the first event showing answer text (not a placeholder or status line). */
function firstAnswerMs(surface: RecordingSurface, start: number, prefix: string): number {
  const hit = surface.events.find((e) => e.text?.startsWith(prefix));
  return hit ? hit.at - start : Number.NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

export async function benchDocs(log: (line: string) => void): Promise<Record<string, number | null>> {
  log(`documents: ${RUNS} questions with a 5 MB PDF and ${RUNS} without, against the simulator…`);
  const sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  const config = testConfig(sim.baseUrl, 'sqlite://:memory:', {
    guards: { userMessagesPerWindow: 1_000_000 },
    faq: { enabled: false },
    // The account's rate (qwen-long's default RPM) would pace the back-to-back questions: not measured here.
    models: { ...UNPACED_MODELS, 'qwen-long': { rpm: 1_000_000, tpm: 1_000_000_000 } },
  });
  const app = await createApp(config, { log: pino({ level: 'silent' }) });
  const now = () => performance.now();
  const withDoc: number[] = [];
  const plain: number[] = [];
  const followUp: number[] = [];
  const statusToAnswer: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const conversation = channelRef(`DOCS${run}`);
      let surface = new RecordingSurface({}, { now });
      let start = now();
      await app.service.handleMessage(
        message('what does the report say?', { conversation, attachments: [pdfAttachment(run)] }),
        surface,
      );
      withDoc.push(firstAnswerMs(surface, start, 'From'));
      const status = surface.events.find((e) => e.text?.startsWith('📄'));
      if (status) statusToAnswer.push(firstAnswerMs(surface, status.at, 'From'));

      surface = new RecordingSurface({}, { now });
      start = now();
      await app.service.handleMessage(message('and the costs?', { conversation }), surface);
      followUp.push(firstAnswerMs(surface, start, 'From'));

      surface = new RecordingSurface({}, { now });
      start = now();
      await app.service.handleMessage(
        message('what does the report say?', { conversation: channelRef(`PLAIN${run}`) }),
        surface,
      );
      plain.push(firstAnswerMs(surface, start, 'Echo'));
    }
  } finally {
    await app.close();
    await sim.close();
  }
  const r = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : null);
  const figures = {
    docs_uploads_5mb: sim.files.uploads.length,
    docs_first_answer_ms_5mb_pdf_p50: r(median(withDoc)),
    docs_first_answer_ms_no_doc_p50: r(median(plain)),
    docs_upload_overhead_ms_5mb_pdf_p50: r(median(withDoc) - median(plain)),
    docs_status_to_answer_ms_5mb_pdf_p50: r(median(statusToAnswer)),
    docs_follow_up_first_answer_ms_p50: r(median(followUp)),
  };
  log(
    `documents: first answer text ${figures.docs_first_answer_ms_5mb_pdf_p50} ms with a 5 MB PDF, ${figures.docs_first_answer_ms_no_doc_p50} ms without (overhead ${figures.docs_upload_overhead_ms_5mb_pdf_p50} ms); follow-up ${figures.docs_follow_up_first_answer_ms_p50} ms; ${figures.docs_uploads_5mb} uploads for ${RUNS} conversations`,
  );
  return figures;
}
