import { describe, expect, it } from 'vitest';
import {
  limitNesting,
  MAX_NESTING,
  neutraliseMarkdown,
  neutraliseStreamPiece,
  toMrkdwn,
} from '../../adapters/slack/format.ts';
import { pingsIn, show } from '../support/fake-slack/model.ts';

/** How Slack shows a plain (mrkdwn) message with this text. */
const shownMrkdwn = (text: string) =>
  show({
    channel: 'C1',
    ts: '1.000001',
    user: 'U0BOT',
    text,
    format: 'mrkdwn',
    bot: true,
    streaming: false,
    updates: 0,
    appends: 0,
    versions: [text],
  });

describe('Markdown to Slack mrkdwn', () => {
  it('renders bold, italics, links, code blocks and lists the way Slack reads them', () => {
    const md = [
      '**Paris** is the _capital_. See [the guide](https://example.com/paris).',
      '',
      '- first item',
      '- second item',
      '',
      '```python',
      'if a < b and c > d: print("a & b")',
      '```',
    ].join('\n');
    const view = shownMrkdwn(toMrkdwn(md));
    expect(view.formatted).toContain('*Paris* is the _capital_. See <https://example.com/paris|the guide>.');
    expect(view.formatted).toMatch(/^•\s+first item$/m);
    expect(view.formatted).toMatch(/^•\s+second item$/m);
    expect(view.formatted).toContain('```\nif a &lt; b and c > d: print("a & b")\n```');
    expect(view.links).toEqual([{ url: 'https://example.com/paris', label: 'the guide' }]);
    expect(view.text).toContain('if a < b and c > d: print("a & b")');
    expect(view.pings).toEqual([]);
  });

  it('keeps plain text unchanged for the reader', () => {
    const plain = 'Tom & Jerry: 3 > 2, and x<y holds. Mail me at someone@example.com.';
    expect(shownMrkdwn(toMrkdwn(plain)).text).toBe(plain);
  });

  it('neutralises broadcast, user and group mentions the model writes, but shows them as text', () => {
    const md = 'Hey <!channel> and <!here|here>, @everyone, @here! Ask <@U0BOB> or <!subteam^S123|devs>.';
    const view = shownMrkdwn(toMrkdwn(md));
    expect(pingsIn(md)).toHaveLength(6);
    expect(view.pings).toEqual([]);
    expect(view.text).toContain('<!channel>');
    expect(view.text).toContain('@everyone, @here!');
    expect(view.text).toContain('<@U0BOB>');
  });

  it('neutralises mentions inside code and link labels too', () => {
    const md = '`<!here>` and\n\n```\n<!everyone>\n```\n\n[<!channel>](https://x.test)';
    expect(shownMrkdwn(toMrkdwn(md)).pings).toEqual([]);
  });
});

describe('native stream text', () => {
  it('stays standard Markdown with mentions made inert', () => {
    const out = neutraliseMarkdown('**Hi** <!channel> @here <@U1>');
    expect(out.replace(/\u200b/g, '')).toBe('**Hi** <!channel> @here <@U1>');
    expect(pingsIn(out)).toEqual([]);
  });

  it('cannot be tricked by a mention split across stream chunks', () => {
    const text = 'Attention <!channel> now, and @everyone too; ask <@U0BOB>.';
    expect(pingsIn(text)).toHaveLength(3);
    for (let cut = 1; cut < text.length; cut++) {
      for (let cut2 = cut; cut2 < text.length; cut2 += 7) {
        const sent = [text.slice(0, cut), text.slice(cut, cut2), text.slice(cut2)].map(neutraliseStreamPiece);
        expect(pingsIn(sent.join('')), `cut at ${cut}/${cut2}`).toEqual([]);
        expect(sent.join('').replace(/\u200b/g, '')).toBe(text);
      }
    }
  });
});

describe('what the model reads from a Slack message', () => {
  it('drops the bot mention and turns Slack markup into plain words', async () => {
    const { readableText } = await import('../../adapters/slack/events.ts');
    const names = new Map([['U0BOB', 'Bob']]);
    const text =
      '<@U0BOT> ask <@U0BOB> and <@U0EVE|eve> in <#C0DEV|dev> about <https://x.test/a|the doc>, ' +
      '<https://x.test/b>, <mailto:a@b.test|a@b.test> &amp; tell <!here>: 1 &lt; 2 &gt; 0';
    expect(readableText(text, 'U0BOT', names)).toBe(
      'ask @Bob and @eve in #dev about the doc (https://x.test/a), https://x.test/b, a@b.test & tell @here: 1 < 2 > 0',
    );
  });
});

describe('deeply nested Markdown', () => {
  it('keeps the first levels of a line and its text, and leaves code blocks and shallow lines alone', () => {
    const deep = `${'- '.repeat(1_000)}bottom`;
    expect(limitNesting(deep)).toBe(`${'- '.repeat(MAX_NESTING)}bottom`);
    expect(limitNesting(`${'>'.repeat(1_000)} quoted`)).toBe(`${'>'.repeat(MAX_NESTING)} quoted`);
    const code = ['```', deep, '```', '- a', '  - b'].join('\n');
    expect(limitNesting(code)).toBe(code);
  });

  it('converts input that would overflow the converter, mentions still inert', () => {
    for (const md of [`${'- '.repeat(1_700)}end <!channel>`, `${'> '.repeat(1_700)}end @here`]) {
      const out = toMrkdwn(md);
      expect(out).toContain('end');
      expect(pingsIn(out)).toEqual([]);
    }
  });
});
