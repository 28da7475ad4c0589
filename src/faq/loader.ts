/**
 * Reads FAQ entries from a YAML file (a list of entries) or a folder of Markdown files (one entry per
 * file: YAML front matter with `question`, optional `alternatives` and `tags`; the body is the answer).
 * A malformed file throws FaqFileError naming the file, line and problem, so start-up stops with it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { ConfigError } from '../config/load.ts';

export interface FaqEntry {
  /** Stable id: `<file>#<n>` for YAML entries, the file name for Markdown ones. */
  id: string;
  question: string;
  answer: string;
  alternatives: string[];
  tags: string[];
}

/** A FAQ file a person must fix; `file:line: problem` in the message. Stops start-up like a bad config. */
export class FaqFileError extends ConfigError {
  readonly file: string;
  readonly line: number | undefined;
  readonly problem: string;

  constructor(file: string, line: number | undefined, problem: string) {
    super(`FAQ ${file}${line ? `:${line}` : ''}: ${problem}`);
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

const ENTRY_KEYS = new Set(['question', 'answer', 'alternatives', 'tags']);
const FRONT_MATTER_KEYS = new Set(['question', 'alternatives', 'tags']);

/** Loads every entry from a `.yaml`/`.yml` file or a folder of `.md` files. */
export function loadFaq(source: string): FaqEntry[] {
  if (!existsSync(source)) throw new FaqFileError(source, undefined, 'no such file or folder');
  if (statSync(source).isDirectory()) return loadMarkdownFolder(source);
  return parseYamlFaq(readFileSync(source, 'utf8'), source);
}

/** Parses a YAML FAQ: a list of `{question, answer, alternatives?, tags?}`. */
export function parseYamlFaq(text: string, file: string): FaqEntry[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const first = doc.errors[0];
  if (first)
    throw new FaqFileError(file, lines.linePos(first.pos[0]).line, first.message.split('\n')[0] ?? '');
  const lineOf = (node: Node | null | undefined) =>
    node?.range ? lines.linePos(node.range[0]).line : undefined;
  if (doc.contents === null) return [];
  if (!isSeq(doc.contents)) {
    throw new FaqFileError(file, lineOf(doc.contents), 'expected a list of entries ("- question: …")');
  }
  const entries: FaqEntry[] = [];
  doc.contents.items.forEach((item, i) => {
    if (!isMap(item)) {
      throw new FaqFileError(
        file,
        lineOf(item as Node),
        `entry ${i + 1} is not a mapping with question/answer`,
      );
    }
    const at = (key: string) => lineOf((item.get(key, true) as Node | undefined) ?? item) ?? lineOf(item);
    checkKeys(item, ENTRY_KEYS, file, lineOf);
    const raw = item.toJSON() as Record<string, unknown>;
    const fields = readFields(raw, (problem, key) => {
      throw new FaqFileError(file, key ? at(key) : lineOf(item), `entry ${i + 1}: ${problem}`);
    });
    const answer: unknown = raw.answer;
    if (typeof answer !== 'string' || !answer.trim()) {
      throw new FaqFileError(file, at('answer'), `entry ${i + 1}: "answer" must be non-empty text`);
    }
    entries.push({ id: `${path.basename(file)}#${i + 1}`, answer: answer.trim(), ...fields });
  });
  return entries;
}

function loadMarkdownFolder(folder: string): FaqEntry[] {
  const files = readdirSync(folder)
    .filter((f) => f.toLowerCase().endsWith('.md'))
    .sort();
  return files.map((f) =>
    parseMarkdownEntry(readFileSync(path.join(folder, f), 'utf8'), path.join(folder, f)),
  );
}

/** One Markdown entry: `---` front matter `---`, then the answer. */
export function parseMarkdownEntry(text: string, file: string): FaqEntry {
  const m = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text);
  if (!m) {
    throw new FaqFileError(file, 1, 'expected front matter between "---" lines, starting on line 1');
  }
  const yamlText = m[1] ?? '';
  // Front matter starts on line 2 of the file.
  const offset = 1;
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: Node | null | undefined) =>
    node?.range ? lines.linePos(node.range[0]).line + offset : undefined;
  const first = doc.errors[0];
  if (first) {
    throw new FaqFileError(
      file,
      lines.linePos(first.pos[0]).line + offset,
      first.message.split('\n')[0] ?? '',
    );
  }
  if (!isMap(doc.contents)) throw new FaqFileError(file, 2, 'front matter must be a mapping ("question: …")');
  const map = doc.contents;
  checkKeys(map, FRONT_MATTER_KEYS, file, lineOf);
  const fields = readFields(map.toJSON() as Record<string, unknown>, (problem, key) => {
    throw new FaqFileError(file, lineOf((key && (map.get(key, true) as Node)) || map), problem);
  });
  const answer = (m[2] ?? '').trim();
  if (!answer) {
    const bodyLine = yamlText.split('\n').length + 3;
    throw new FaqFileError(file, bodyLine, 'the answer (the text after the front matter) is empty');
  }
  return { id: path.basename(file), answer, ...fields };
}

function checkKeys(
  map: YAMLMap,
  allowed: Set<string>,
  file: string,
  lineOf: (n: Node | null | undefined) => number | undefined,
): void {
  for (const pair of map.items) {
    const key = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
    if (!allowed.has(key)) {
      throw new FaqFileError(
        file,
        lineOf(pair.key as Node),
        `unknown key "${key}" (expected ${[...allowed].join(', ')})`,
      );
    }
  }
}

function readFields(
  raw: Record<string, unknown>,
  fail: (problem: string, key?: string) => never,
): Pick<FaqEntry, 'question' | 'alternatives' | 'tags'> {
  const question = raw.question;
  if (question === undefined) fail('"question" is missing');
  if (typeof question !== 'string' || !question.trim()) fail('"question" must be non-empty text', 'question');
  const list = (key: 'alternatives' | 'tags'): string[] => {
    const v = raw[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || !s.trim()))
      fail(`"${key}" must be a list of non-empty texts`, key);
    return (v as string[]).map((s) => s.trim());
  };
  return { question: question.trim(), alternatives: list('alternatives'), tags: list('tags') };
}
