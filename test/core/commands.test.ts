import { describe, expect, it } from 'vitest';
import { CommandRegistry, type CommandSpec, parseCommandText } from '../../src/core/commands/registry.ts';
import type { CommandInvocation } from '../../src/core/types.ts';
import { KeyedQueue } from '../../src/util/keyed-queue.ts';

const spec: CommandSpec = {
  name: 'demo',
  description: 'demo command',
  access: 'everyone',
  ephemeral: true,
  options: [
    { name: 'count', description: 'how many', type: 'integer', required: true },
    { name: 'loud', description: 'shout', type: 'boolean' },
    { name: 'mode', description: 'mode', type: 'string', choices: ['fast', 'slow'] },
    { name: 'text', description: 'the rest', type: 'string', rest: true, maxLength: 20 },
  ],
  handler: async () => ({ text: '' }),
};
const registry = new CommandRegistry().add(spec);
const inv = (rawArgs: string, options?: CommandInvocation['options']): CommandInvocation => ({
  name: 'demo',
  rawArgs,
  options,
  conversation: { platform: 't', workspace: 'w', channel: 'c', isDM: false },
  author: { id: 'u', name: 'U', isBot: false },
});

describe('command parsing', () => {
  it('fills options positionally, by name, and takes the rest of the text', () => {
    expect(registry.parse(spec, inv('3 true fast hello there world'), 'en')).toEqual({
      options: { count: 3, loud: true, mode: 'fast', text: 'hello there world' },
    });
    expect(registry.parse(spec, inv('mode:slow 7'), 'en')).toEqual({ options: { count: 7, mode: 'slow' } });
    expect(registry.parse(spec, inv('1 "yes" fast "quoted words"'), 'en')).toEqual({
      options: { count: 1, loud: true, mode: 'fast', text: '"quoted words"' },
    });
  });

  it('reads only declared option names as options; any other `word:` is positional text', () => {
    const rest: CommandSpec = {
      ...spec,
      name: 'note',
      options: [{ name: 'text', description: 'the text', type: 'string', rest: true }],
    };
    const parsed = (raw: string) => registry.parse(rest, { ...inv(raw), name: 'note' }, 'en');
    expect(parsed('note: answer in French')).toEqual({ options: { text: 'note: answer in French' } });
    expect(parsed('https://example.com/a?b=c how do I')).toEqual({
      options: { text: 'https://example.com/a?b=c how do I' },
    });
    expect(parsed('text:explicit')).toEqual({ options: { text: 'explicit' } });
    // A plain string slot takes it as its value too.
    expect(registry.parse(spec, inv('4 true fast see: this'), 'en')).toEqual({
      options: { count: 4, loud: true, mode: 'fast', text: 'see: this' },
    });
  });

  it('accepts options already typed by the platform', () => {
    expect(registry.parse(spec, inv('', { count: 2, loud: false }), 'en')).toEqual({
      options: { count: 2, loud: false },
    });
  });

  it.each([
    ['', '/demo: missing count. Usage: /demo <count> [loud] [mode] [text]'],
    ['x', '/demo: count must be a whole number. Usage: /demo <count> [loud] [mode] [text]'],
    ['1.5', '/demo: count must be a whole number. Usage: /demo <count> [loud] [mode] [text]'],
    ['1 maybe', '/demo: loud must be true or false. Usage: /demo <count> [loud] [mode] [text]'],
    ['1 true medium', '/demo: mode must be one of: fast, slow. Usage: /demo <count> [loud] [mode] [text]'],
    [
      '1 true fast this text is far too long for it',
      '/demo: text is too long (at most 20 characters). Usage: /demo <count> [loud] [mode] [text]',
    ],
    ['colour:red', '/demo: unknown option "colour". Usage: /demo <count> [loud] [mode] [text]'],
  ])('%j gets a short usage reply', (raw, error) => {
    expect(registry.parse(spec, inv(raw), 'en')).toEqual({ error });
  });

  it('answers in Chinese for Chinese users', () => {
    expect(registry.parse(spec, inv(''), 'zh')).toEqual({
      error: '/demo：缺少 count。用法：/demo <count> [loud] [mode] [text]',
    });
  });

  it('recognises command text and leaves paths and prose alone', () => {
    expect(parseCommandText('/model qwen-max')).toEqual({ name: 'model', rawArgs: 'qwen-max' });
    expect(parseCommandText('  /RESET ')).toEqual({ name: 'reset', rawArgs: '' });
    expect(parseCommandText('/etc/passwd is a file')).toBeUndefined();
    expect(parseCommandText('what does /model do?')).toBeUndefined();
  });

  it('rejects names and descriptions Discord would refuse', () => {
    expect(() => new CommandRegistry().add({ ...spec, name: 'Bad Name' })).toThrow(/1-32 lowercase/);
    expect(() => new CommandRegistry().add({ ...spec, description: 'x'.repeat(101) })).toThrow(/1-100/);
  });
});

describe('KeyedQueue', () => {
  it('runs one key in order and different keys in parallel', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const a1 = q.run('a', async () => {
      await gate;
      log.push('a1');
    });
    const a2 = q.run('a', async () => void log.push('a2'));
    const b1 = q.run('b', async () => void log.push('b1'));
    await b1;
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['b1']);
    expect(q.size).toBe(2);
    release();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['b1', 'a1', 'a2']);
  });

  it('a failing task does not block the next one', async () => {
    const q = new KeyedQueue();
    await expect(q.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(q.run('k', async () => 'next')).resolves.toBe('next');
  });
});
