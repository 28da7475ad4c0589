import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MessageEditor } from '../../src/core/inflight.ts';
import { startDashScopeSim } from '../support/dashscope-sim.ts';
import { message, startHarness, TEST_API_KEY } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

describe('crash recovery', () => {
  it('the next start edits each orphaned reply to say it was interrupted; the user turn is in history', async () => {
    const storeUrl = `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-crash-')), 'bot.sqlite')}`;
    const sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
    const first = await startHarness({ storeUrl, reuseSim: sim });
    sim.script({ text: 'partial words '.repeat(100), chunkChars: 7, chunkDelayMs: 10 });
    const surface = new RecordingSurface();
    const pending = first.app.service.handleMessage(message('a long question'), surface);
    while (!surface.transcript().includes('partial words partial')) await new Promise((r) => setImmediate(r));
    await first.app.service.inflight.flush();
    // The process "dies" here: nothing of the first instance runs any more, its store is left as is.
    const shownAtCrash = surface.shown()[0] ?? '';

    const edits: Array<[string, string]> = [];
    const editor: MessageEditor = {
      platform: 'test',
      maxChars: 2000,
      editMessage: async (_conversation, id, text) => void edits.push([id, text]),
    };
    const second = await startHarness({ storeUrl, reuseSim: sim });
    expect(await second.app.service.recoverInterrupted([editor])).toBe(1);
    expect(edits).toHaveLength(1);
    const [id, text] = edits[0] ?? ['', ''];
    expect(id).toBe(surface.events[0]?.id);
    expect(text.startsWith(shownAtCrash.slice(0, 20))).toBe(true);
    expect(text.endsWith('\n\n⚠️ This answer was interrupted (the bot restarted). Please ask again.')).toBe(
      true,
    );
    const turns = await second.app.service.history.load('test:W1:C1');
    expect(turns[0]).toMatchObject({ role: 'user', text: 'a long question' });
    expect(turns[1]).toMatchObject({ role: 'assistant', status: 'interrupted' });
    // Nothing is repaired twice.
    expect(await second.app.service.recoverInterrupted([editor])).toBe(0);

    first.app.service.stop(surface.events[0]?.id ?? '', { id: 'U1', name: 'Alice', isBot: false });
    await pending;
    await second.close();
    await first.close();
    await sim.close();
  });
});
