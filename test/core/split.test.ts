import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fencesBalanced, splitMessage } from '../../src/core/split.ts';

describe('splitMessage', () => {
  it('keeps a short answer in one message', () => {
    expect(splitMessage('hello', 2000)).toEqual([{ text: 'hello', body: 'hello' }]);
  });

  it('cuts long prose at a line end, each part within the limit', () => {
    const text = Array.from({ length: 60 }, (_, i) => `Line ${i}: ${'word '.repeat(12)}`).join('\n');
    const parts = splitMessage(text, 500);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.text.length).toBeLessThanOrEqual(500);
    expect(parts.map((p) => p.body).join('')).toBe(text);
    // Every part but the last ends at a line end.
    for (const p of parts.slice(0, -1)) expect(p.body.endsWith('\n')).toBe(true);
  });

  it('closes a code fence at the cut and reopens it with its language in the next part', () => {
    const code = Array.from({ length: 80 }, (_, i) => `  console.log(${i});`).join('\n');
    const text = `Here is the code:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nThat is all.`;
    const parts = splitMessage(text, 400);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(p.text.length).toBeLessThanOrEqual(400);
      expect(fencesBalanced(p.text)).toBe(true);
    }
    expect(parts[1]?.text.startsWith('```ts\n')).toBe(true);
    expect(parts[0]?.text.endsWith('\n```')).toBe(true);
    expect(parts.map((p) => p.body).join('')).toBe(text);
  });

  it('a backtick line with a backtick in its info string is inline code, not a fence (CommonMark)', () => {
    // Found by the Slack formatting property (seed 1690206435): the splitter closed and reopened this
    // "fence", the converter showed it as text, and Slack got an unbalanced code block.
    expect(fencesBalanced('```js `code`\nplain text')).toBe(true);
    const line = '```js @everyone **bold** `code`\nplain words here\n';
    const parts = splitMessage(line.repeat(40), 200);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.text).toBe(part.body);
  });

  it('never ends a part on a bare fence opener', () => {
    const text = `${'a'.repeat(180)}\n\`\`\`python\n${'print(1)\n'.repeat(40)}\`\`\``;
    const parts = splitMessage(text, 200);
    expect(parts[0]?.text).not.toMatch(/```python\n```$/);
  });

  it('does not split a surrogate pair on a hard cut', () => {
    const text = '😀'.repeat(300);
    const parts = splitMessage(text, 101);
    for (const p of parts) expect(p.text).not.toMatch(/[\ud800-\udbff]$|^[\udc00-\udfff]/);
    expect(parts.map((p) => p.body).join('')).toBe(text);
  });

  it('property: parts fit, fences balance, bodies concatenate to the input', () => {
    const line = fc.oneof(
      fc.constantFrom('```', '```js', '~~~', '', '    ```', 'text with `inline` code'),
      fc.string({ maxLength: 120 }),
      fc.string({ unit: 'grapheme', maxLength: 60 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 80 }), fc.integer({ min: 64, max: 600 }), (lines, max) => {
        const text = lines.join('\n');
        const parts = splitMessage(text, max);
        expect(parts.map((p) => p.body).join('')).toBe(text);
        for (const p of parts) expect(p.text.length).toBeLessThanOrEqual(max);
        // Fences balanced in every part except possibly the last (the input itself may leave one open).
        for (const p of parts.slice(0, -1)) expect(fencesBalanced(p.text)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
