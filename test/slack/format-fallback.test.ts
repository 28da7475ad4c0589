/** When the Markdown converter fails anyway, the answer goes out as plain, still inert, text. */
import { expect, it, vi } from 'vitest';
import { pingsIn } from '../support/fake-slack/model.ts';

vi.mock('slackify-markdown', () => ({
  slackifyMarkdown: () => {
    throw new RangeError('Maximum call stack size exceeded');
  },
}));

it('a converter failure falls back to the text itself, escaped, mentions neutralised', async () => {
  const { toMrkdwn } = await import('../../adapters/slack/format.ts');
  const out = toMrkdwn('**a** & b <!channel> <@U0ALICE> @here [x](https://example.com)');
  expect(out).toBe('**a** &amp; b &lt;!channel> &lt;@U0ALICE> @\u200bhere [x](https://example.com)');
  expect(pingsIn(out)).toEqual([]);
});
