import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MarkdownStream, renderMarkdown } from '../../adapters/console/markdown.ts';
import { nearestName } from '../../adapters/console/suggest.ts';
import { streamTiming } from '../../src/sim/sim-wire.ts';
import { visible } from './screen.ts';

const SAMPLE = [
  '# Title',
  '',
  'Some **bold** and `code` here.',
  '- one',
  '  * nested',
  '3. third',
  '> quoted',
  '---',
  '```js',
  'const a = 2 ** 3; // **not bold**',
  '```',
  '2024 was a year; a*b stays.',
].join('\n');

function streamed(text: string, cuts: number[]): string {
  let out = '';
  const md = new MarkdownStream((s) => {
    out += s;
  });
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    md.push(text.slice(at, cut));
    at = Math.max(at, cut);
  }
  md.push(text.slice(at));
  md.end();
  return out;
}

describe('Markdown on a terminal', () => {
  it('shows headings, lists, quotes, rules and code without their marks', () => {
    expect(visible(renderMarkdown(SAMPLE))).toBe(
      [
        'Title',
        '',
        'Some bold and code here.',
        '• one',
        '  • nested',
        '3. third',
        '│ quoted',
        '─'.repeat(40),
        '┌─ js',
        '│ const a = 2 ** 3; // **not bold**',
        '└─',
        '2024 was a year; a*b stays.',
      ].join('\n'),
    );
  });

  it('reads fences as the splitter and the Slack converter do: a backtick line with inline code is text', () => {
    // CommonMark 4.5: a backtick fence's info string has no backtick.
    const text = '```js `x` is inline\nstill text\n~~~~ sh extra\necho **hi**\n~~~\nnot closed yet\n~~~~';
    expect(visible(renderMarkdown(text))).toBe(
      ['js x is inline', 'still text', '┌─ sh', '│ echo **hi**', '│ ~~~', '│ not closed yet', '└─', ''].join(
        '\n',
      ),
    );
  });

  it('styles never leak past the end of a line', () => {
    const out = renderMarkdown('an **unclosed bold\nnext line');
    expect(out).toBe('an \x1b[1munclosed bold\x1b[0m\nnext line');
  });

  it('renders the same however the text is cut into stream chunks', () => {
    const whole = renderMarkdown(SAMPLE);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: SAMPLE.length }), { maxLength: 30 }), (cuts) => {
        expect(streamed(SAMPLE, cuts)).toBe(whole);
      }),
    );
    expect(
      streamed(
        SAMPLE,
        [...SAMPLE].map((_, i) => i),
      ),
    ).toBe(whole);
  });
});

describe('the nearest command for a typo', () => {
  const names = ['help', 'model', 'reset', 'system', 'usage', 'forget', 'faq', 'exit'];
  it.each([
    ['modle', 'model'],
    ['mdoel', 'model'],
    ['rest', 'reset'],
    ['hlep', 'help'],
    ['sytem', 'system'],
    ['mod', 'model'],
  ])('/%s → /%s', (typed, meant) => {
    expect(nearestName(typed, names)).toBe(meant);
  });
  it('nothing for a word that is no near miss', () => {
    expect(nearestName('weather', names)).toBeUndefined();
    expect(nearestName('ai', names)).toBeUndefined();
  });
});

describe("the simulator's pacing", () => {
  it('is off unless asked for; paced, one token (4 characters) a chunk at the given rate', () => {
    expect(streamTiming({})).toEqual({ chunkChars: 6, firstTokenDelayMs: 0, chunkDelayMs: 0 });
    expect(streamTiming({}, { tokensPerSecond: 40, firstTokenDelayMs: 600 })).toEqual({
      chunkChars: 4,
      firstTokenDelayMs: 600,
      chunkDelayMs: 25,
    });
    // A test's own step timings win over the pace.
    expect(
      streamTiming({ chunkDelayMs: 0, chunkChars: 10 }, { tokensPerSecond: 40, firstTokenDelayMs: 600 }),
    ).toEqual({ chunkChars: 10, firstTokenDelayMs: 600, chunkDelayMs: 0 });
  });
});
