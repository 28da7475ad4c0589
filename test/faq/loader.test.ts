import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaqFileError, loadFaq } from '../../src/faq/loader.ts';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'qwenbot-faq-'));
function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
function errorOf(fn: () => unknown): FaqFileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FaqFileError) return err;
    throw err;
  }
  throw new Error('expected a FaqFileError');
}

describe('FAQ loader', () => {
  it('loads the shipped config/faq.yaml: English and Chinese entries with alternatives and tags', () => {
    const entries = loadFaq(path.resolve('config/faq.yaml'));
    expect(entries.length).toBeGreaterThanOrEqual(8);
    expect(entries.length).toBeLessThanOrEqual(15);
    expect(entries[0]).toMatchObject({
      id: 'faq.yaml#1',
      question: 'How do I reset the conversation?',
      alternatives: ['How do I make the bot forget what we talked about?', 'Clear the chat history'],
      tags: ['history'],
    });
    expect(entries[0]?.answer).toMatch(/^Use `\/reset`/);
    expect(entries.some((e) => e.question === '如何切换模型？')).toBe(true);
  });

  it('loads a folder of Markdown files: front matter for the question, the body as the answer', () => {
    const dir = tmp();
    write(
      dir,
      'b-vpn.md',
      '---\nquestion: How do I connect to the VPN?\nalternatives:\n  - VPN setup\ntags: [it]\n---\nOpen **the VPN app** and sign in.\n\nThen pick the office.\n',
    );
    write(dir, 'a-wifi.md', '---\nquestion: 无线网络密码是什么？\n---\n见前台。\n');
    write(dir, 'notes.txt', 'not an entry');
    expect(loadFaq(dir)).toEqual([
      { id: 'a-wifi.md', question: '无线网络密码是什么？', answer: '见前台。', alternatives: [], tags: [] },
      {
        id: 'b-vpn.md',
        question: 'How do I connect to the VPN?',
        answer: 'Open **the VPN app** and sign in.\n\nThen pick the office.',
        alternatives: ['VPN setup'],
        tags: ['it'],
      },
    ]);
  });

  it('a malformed YAML file names the file, the line and the problem', () => {
    const dir = tmp();
    const syntax = write(
      dir,
      'syntax.yaml',
      '- question: ok\n  answer: fine\n- question: a: b\n  answer: x\n',
    );
    const e1 = errorOf(() => loadFaq(syntax));
    expect(e1.message).toBe(`FAQ ${syntax}:3: Nested mappings are not allowed in compact mappings`);
    expect(e1.line).toBe(3);

    const missing = write(dir, 'missing.yaml', '- question: ok\n  answer: fine\n\n- answer: orphan answer\n');
    expect(errorOf(() => loadFaq(missing)).message).toBe(`FAQ ${missing}:4: entry 2: "question" is missing`);

    const unknown = write(dir, 'unknown.yaml', '- question: ok\n  answer: fine\n  anwser: typo\n');
    expect(errorOf(() => loadFaq(unknown)).message).toBe(
      `FAQ ${unknown}:3: unknown key "anwser" (expected question, answer, alternatives, tags)`,
    );

    const badAlt = write(dir, 'alt.yaml', '- question: ok\n  answer: fine\n  alternatives: just one\n');
    expect(errorOf(() => loadFaq(badAlt)).message).toBe(
      `FAQ ${badAlt}:3: entry 1: "alternatives" must be a list of non-empty texts`,
    );

    const noAnswer = write(dir, 'noanswer.yaml', '- question: ok\n  answer: ""\n');
    expect(errorOf(() => loadFaq(noAnswer)).message).toBe(
      `FAQ ${noAnswer}:2: entry 1: "answer" must be non-empty text`,
    );

    const notList = write(dir, 'map.yaml', 'question: ok\nanswer: fine\n');
    expect(errorOf(() => loadFaq(notList)).message).toBe(
      `FAQ ${notList}:1: expected a list of entries ("- question: …")`,
    );
    expect(errorOf(() => loadFaq(path.join(dir, 'nope.yaml'))).message).toBe(
      `FAQ ${path.join(dir, 'nope.yaml')}: no such file or folder`,
    );
  });

  it('a malformed Markdown entry names the file and the line within the whole file', () => {
    const dir = tmp();
    const sub = path.join(dir, 'faq');
    mkdirSync(sub);
    const noFront = write(sub, 'a.md', '# Just a heading\n\nNo front matter.\n');
    expect(errorOf(() => loadFaq(sub)).message).toBe(
      `FAQ ${noFront}:1: expected front matter between "---" lines, starting on line 1`,
    );
    writeFileSync(noFront, '---\nquestion: fine\n---\nok\n');
    const badYaml = write(sub, 'b.md', '---\nquestion: ok\ntags: [a, b\n---\nbody\n');
    const err = errorOf(() => loadFaq(sub));
    expect(err.file).toBe(badYaml);
    expect(err.line).toBeGreaterThanOrEqual(3);
    writeFileSync(badYaml, '---\ntags: [a]\nquestoin: typo\n---\nbody\n');
    expect(errorOf(() => loadFaq(sub)).message).toBe(
      `FAQ ${badYaml}:3: unknown key "questoin" (expected question, alternatives, tags)`,
    );
    writeFileSync(badYaml, '---\nquestion: ok\n---\n\n');
    expect(errorOf(() => loadFaq(sub)).message).toBe(
      `FAQ ${badYaml}:4: the answer (the text after the front matter) is empty`,
    );
  });
});
