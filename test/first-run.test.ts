/**
 * What a new operator meets when start-up cannot go on: `node src/main.ts` run as a process with a
 * controlled environment (HOME and cwd in a temporary folder, made-up tokens), checking the one line on
 * stderr and the exit code a supervisor acts on. Configuration problems exit 2, without stack traces.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { closedPort, runMain } from './support/run-main.ts';

let home: string;

beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), 'qwenbot-first-run-'));
});

/** Runs the bot with only these variables set (nothing from the developer's own environment). */
function runBot(args: string[], env: Record<string, string>) {
  return runMain(args, { cwd: home, env: { PATH: process.env.PATH ?? '', HOME: home, PORT: '0', ...env } });
}

/** Exactly one line on stderr, starting with "qwenbot:", and no stack trace. */
function expectOneLine(stderr: string): string {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
  expect(stderr).toMatch(/^qwenbot: /);
  return stderr;
}

const KEY = 'sk-first-run-test-not-a-real-key';

describe('npm start with no chat platform configured', () => {
  it('says which variables to set and exits non-zero, so a restart policy does not loop on success', async () => {
    const run = await runBot([], { DASHSCOPE_API_KEY: KEY });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^qwenbot: no chat platform is configured/);
    for (const name of ['DISCORD_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET'])
      expect(run.stderr).toContain(name);
    expect(run.stderr).toContain('npm run demo');
  });
});

describe('a store that cannot be opened is a configuration error: exit 2, one line', () => {
  it('sqlite:// in a folder that cannot be created (chat)', async () => {
    const blocker = path.join(home, 'not-a-folder');
    writeFileSync(blocker, 'a file where the store folder would go');
    const url = `sqlite://${path.join(blocker, 'data', 'qwenbot.sqlite')}`;
    const run = await runBot(['chat', 'hello'], { DASHSCOPE_API_KEY: KEY, QWENBOT_STORE: url });
    const line = expectOneLine(run.stderr);
    expect(line).toContain(path.join(blocker, 'data'));
    expect(line).toMatch(/QWENBOT_STORE/);
    expect(run.code).toBe(2);
  });

  it('sqlite:// in a folder that cannot be created (start, a platform configured)', async () => {
    const blocker = path.join(home, 'also-not-a-folder');
    writeFileSync(blocker, 'x');
    const run = await runBot([], {
      DASHSCOPE_API_KEY: KEY,
      DISCORD_TOKEN: 'made-up-discord-token',
      DISCORD_API_URL: `http://127.0.0.1:${await closedPort()}`,
      QWENBOT_STORE: `sqlite://${path.join(blocker, 'qwenbot.sqlite')}`,
    });
    expectOneLine(run.stderr);
    expect(run.stderr).not.toContain('made-up-discord-token');
    expect(run.code).toBe(2);
  });

  it('redis:// on a closed port: names the URL without its password', async () => {
    const port = await closedPort();
    const run = await runBot(['chat', 'hello'], {
      DASHSCOPE_API_KEY: KEY,
      QWENBOT_STORE: `redis://:hunter2-secret@127.0.0.1:${port}`,
      QWENBOT_INSTANCE: 'first-run-test',
    });
    const line = expectOneLine(run.stderr);
    expect(line).toContain(`127.0.0.1:${port}`);
    expect(line).not.toContain('hunter2-secret');
    expect(run.code).toBe(2);
  });
});

describe('a FAQ file that does not parse stops start-up: exit 2, file:line in one line', () => {
  const faqFile = () => {
    const file = path.join(home, 'faq.yaml');
    writeFileSync(file, '- question: How do I reset?\n  answer: Use /reset.\n- question: [unclosed\n');
    return file;
  };

  it('in the terminal chat', async () => {
    const run = await runBot(['chat', 'hello'], {
      DASHSCOPE_API_KEY: KEY,
      QWENBOT_FAQ: faqFile(),
      QWENBOT_STORE: 'sqlite://:memory:',
    });
    expect(expectOneLine(run.stderr)).toMatch(/^qwenbot: configuration error: FAQ \S*faq\.yaml:\d+: /);
    expect(run.code).toBe(2);
  });

  it('when starting the bot for a platform', async () => {
    const run = await runBot([], {
      DASHSCOPE_API_KEY: KEY,
      DISCORD_TOKEN: 'made-up-discord-token',
      DISCORD_API_URL: `http://127.0.0.1:${await closedPort()}`,
      QWENBOT_FAQ: faqFile(),
      QWENBOT_STORE: 'sqlite://:memory:',
    });
    expect(expectOneLine(run.stderr)).toMatch(/^qwenbot: configuration error: FAQ \S*faq\.yaml:\d+: /);
    expect(run.code).toBe(2);
  });
});
