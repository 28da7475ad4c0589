/**
 * Property-based tests of what Slack gets from model Markdown (adapters/slack/format.ts), the way the
 * surface uses it: the answer split at the surface's limit, each part converted to mrkdwn (or, past
 * chat.update's 4,000 characters, a markdown block), and streamed pieces neutralised one by one.
 * Whatever the model writes: parts fit, no mention pings anyone, code blocks stay balanced.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { neutraliseMarkdown, neutraliseStreamPiece, toMrkdwn } from '../../adapters/slack/format.ts';
import { SLACK_SURFACE_MAX, SLACK_UPDATE_MAX } from '../../adapters/slack/surface.ts';
import { splitMessage } from '../../src/core/split.ts';
import { pingsIn } from '../support/fake-slack/model.ts';

/** Markdown block limit (platform facts: 12,000 characters). */
const MARKDOWN_BLOCK_MAX = 12_000;

const hostile = fc.constantFrom(
  '@everyone',
  '@here',
  '@channel',
  '@Everyone!',
  '<!channel>',
  '<!here|here>',
  '<!everyone>',
  '<!subteam^S123|team>',
  '<@U0ALICE>',
  '<@W123|bob>',
  '<#C0GENERAL>',
  '<https://example.com|a link>',
  '[link](https://example.com)',
  '**bold** _it_ `code`',
  '```',
  '```js',
  '~~~',
  '> quote',
  '- item',
  '# Heading',
  '&lt;!channel&gt;',
  '<',
  '>',
  '\u200b',
  '\u202e',
);
const line = fc.oneof(
  { weight: 3, arbitrary: hostile },
  { weight: 2, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.array(hostile, { maxLength: 6 }).map((xs) => xs.join(' ')) },
);
const markdown = fc.array(line, { maxLength: 60 }).map((lines) => lines.join('\n'));

function fenceLines(text: string): number {
  return text.split('\n').filter((l) => /^\s*```/.test(l)).length;
}

describe('Slack formatting of model output', () => {
  it('property: every part fits its message, pings nobody, and keeps code blocks balanced', () => {
    fc.assert(
      fc.property(markdown, fc.integer({ min: 1, max: 25 }), (text, repeat) => {
        // Long answers too: the same lines repeated up to 25 times.
        const answer = Array.from({ length: repeat }, () => text).join('\n');
        const parts = splitMessage(answer, SLACK_SURFACE_MAX);
        parts.forEach((part, i) => {
          const mrkdwn = toMrkdwn(part.text);
          expect(pingsIn(mrkdwn)).toEqual([]);
          if (mrkdwn.length > SLACK_UPDATE_MAX) {
            // The surface sends this part as a markdown block instead.
            const block = neutraliseMarkdown(part.text);
            expect(block.length).toBeLessThanOrEqual(MARKDOWN_BLOCK_MAX);
            expect(pingsIn(block)).toEqual([]);
          }
          // Every part but the last comes out of the splitter closed; mrkdwn keeps it so.
          if (i < parts.length - 1) expect(fenceLines(mrkdwn) % 2).toBe(0);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('a line like "```js `code`" is text on both sides: no part gets a code block it does not close', () => {
    // The counterexample the property above found (seed 1690206435), shrunk.
    const text =
      '@everyone\n```js @everyone @everyone **bold** _it_ `code`\n@everyone\n@everyone\n' +
      '@everyone <!everyone> @everyone @everyone\n<@W123|bob>\n@everyone';
    const parts = splitMessage(Array.from({ length: 25 }, () => text).join('\n'), SLACK_SURFACE_MAX);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(fenceLines(toMrkdwn(part.text)) % 2).toBe(0);
  });

  it('property: a stream cut into arbitrary pieces never assembles a mention', () => {
    const pieceCuts = fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(markdown, pieceCuts, (text, cuts) => {
        const pieces: string[] = [];
        let at = 0;
        for (let i = 0; at < text.length; i++) {
          const n = cuts[i % cuts.length] ?? 1;
          pieces.push(text.slice(at, at + n));
          at += n;
        }
        const shown = pieces.map(neutraliseStreamPiece).join('');
        expect(pingsIn(shown)).toEqual([]);
        // Nothing the model wrote is lost: only invisible separators were added.
        expect(shown.replace(/\u200b/g, '')).toBe(text.replace(/\u200b/g, ''));
      }),
      { numRuns: 300 },
    );
  });
});
