import { describe, expect, it } from 'vitest';
import { prepareAttachments } from '../../src/core/attachments.ts';
import type { Attachment } from '../../src/core/types.ts';

const limits = {
  maxImageBytes: 1_000_000,
  maxImages: 4,
  maxTextFileBytes: 100_000,
  maxTurnChars: 10,
  downloadTimeoutMs: 1_000,
};
const file = (name: string, text: string): Attachment & { loads: number } => {
  const bytes = new TextEncoder().encode(text);
  const a = {
    name,
    mime: 'text/plain',
    size: bytes.byteLength,
    loads: 0,
    load: async () => {
      a.loads++;
      return bytes;
    },
  };
  return a;
};

describe('the text-file budget of one message', () => {
  it('cuts the file that crosses it without splitting a character, and never loads the files after it', async () => {
    const first = file('a.txt', 'abcdefghi'); // 9 of 10
    const second = file('b.txt', '😀😀'); // the emoji is two UTF-16 units: only 1 is left
    const third = file('c.txt', 'never read');
    const prepared = await prepareAttachments([first, second, third], limits, 'en');
    expect(prepared.fileText).toContain('abcdefghi');
    expect(prepared.fileText).not.toContain('\ud83d');
    expect(prepared.notes).toEqual([
      '(Skipped b.txt: the text files of one message add at most 10 characters.)',
      '(Skipped c.txt: the text files of one message add at most 10 characters.)',
    ]);
    expect(third.loads).toBe(0);
  });

  it('a cut keeps whole characters and spends the rest of the budget', async () => {
    const first = file('a.txt', 'ab😀cdef😀ghij');
    const second = file('b.txt', 'x');
    const prepared = await prepareAttachments([first, second], limits, 'en');
    expect(prepared.fileText).toBe('[file a.txt, first 10 characters]\n```\nab😀cdef😀\n```');
    expect(prepared.notes).toEqual([
      '(Cut a.txt after 10 characters: the text files of one message add at most 10.)',
      '(Skipped b.txt: the text files of one message add at most 10 characters.)',
    ]);
    expect(second.loads).toBe(0);
  });
});
