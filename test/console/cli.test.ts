import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashScopeSim, lastUserText, startDashScopeSim } from '../support/dashscope-sim.ts';
import { TEST_API_KEY } from '../support/harness.ts';
import { CHILD_NODE_ENV, runMain } from '../support/run-main.ts';

let sim: DashScopeSim;
let env: Record<string, string>;

function runCli(args: string[], extraEnv: Record<string, string> = {}, stdin?: string) {
  return runMain(args, { env: { ...env, ...extraEnv }, ...(stdin === undefined ? {} : { stdin }) });
}

beforeAll(async () => {
  sim = await startDashScopeSim({
    apiKey: TEST_API_KEY,
    responder: (body) =>
      `You asked "${lastUserText(body)}" (${body.messages.filter((m) => m.role === 'user').length} questions so far).`,
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-cli-'));
  env = {
    PATH: process.env.PATH ?? '',
    ...CHILD_NODE_ENV,
    DASHSCOPE_API_KEY: TEST_API_KEY,
    DASHSCOPE_BASE_URL: sim.baseUrl,
    QWENBOT_STORE: `sqlite://${path.join(dir, 'cli.sqlite')}`,
    QWENBOT_CONFIG: path.join(process.cwd(), 'test', 'fixtures', 'fast.yaml'),
  };
});
afterAll(() => sim.close());

describe('npm start -- chat', () => {
  it('answers one question on stdout and exits 0; the next run remembers the first', async () => {
    const first = await runCli(['chat', 'What is 2+2?']);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe('You asked "What is 2+2?" (1 questions so far).\n');
    const second = await runCli(['chat', 'And times 3?']);
    expect(second.stdout).toBe('You asked "And times 3?" (2 questions so far).\n');
  });

  it('/model, /reset and /help work as messages', async () => {
    expect((await runCli(['chat', '/model qwen-turbo'])).stdout).toBe(
      'Switched this conversation to **qwen-turbo**.\n',
    );
    await runCli(['chat', 'which model?']);
    expect(sim.chatRequests().at(-1)?.model).toBe('qwen-turbo');
    expect((await runCli(['chat', '/reset'])).stdout).toBe('History cleared for this conversation.\n');
    expect((await runCli(['chat', 'fresh start'])).stdout).toContain('(1 questions so far)');
    expect((await runCli(['chat', '/help'])).stdout).toMatch(
      /^Mention me or DM me to chat\. Commands:\n• `\/help`/,
    );
  });

  it('an interactive session answers each line until EOF', async () => {
    const run = await runCli(['chat'], {}, 'first line\nsecond line\n');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('You asked "first line"');
    expect(run.stdout).toContain('You asked "second line"');
  });

  it('a model failure prints the partial answer, one clear line on stderr, and exits 1', async () => {
    sim.script(
      { error: { status: 429, code: 'limit_requests' } },
      { error: { status: 429, code: 'limit_requests' } },
      { error: { status: 429, code: 'limit_requests' } },
    );
    const run = await runCli(['chat', 'are you there?']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: The model is busy right now (rate limit). Please try again in a minute.\n',
    );
    // Once: not also on stdout.
    expect(run.stdout).toBe('');
  });

  it('Ctrl-C (SIGINT) during a one-message answer keeps what arrived and says it stopped', async () => {
    sim.script({
      text: 'Half of it, then more.',
      chunkChars: 5,
      holdAfterChunks: 2,
      hold: new Promise(() => undefined),
    });
    const child = spawn(process.execPath, ['src/main.ts', 'chat', 'long answer please'], {
      env,
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('Half of i')) resolve();
      }),
    );
    child.kill('SIGINT');
    expect(await closed).toBe(0);
    expect(stdout).toMatch(/^Half of it\n⏹️ Stopped by .+\.\n$/);
    expect(stderr).toBe('');
  });

  it('--version prints the package version; chat --help explains the session; both before any config', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const args of [['--version'], ['chat', '--version'], ['-v']]) {
      const run = await runCli(args, { QWENBOT_CONFIG: '/nonexistent.yaml' });
      expect(run).toEqual({ code: 0, stdout: `qwenbot ${pkg.version}\n`, stderr: '' });
    }
    const help = await runCli(['chat', '--help'], { QWENBOT_CONFIG: '/nonexistent.yaml' });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: qwenbot chat \[message\]/);
    expect(help.stdout).toContain('Ctrl-C stops an answer');
    expect(sim.chatRequests().some((b) => JSON.stringify(b).includes('--help'))).toBe(false);
    const bad = await runCli(['chat', '--frobnicate']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toBe('qwenbot: unknown option --frobnicate for chat (see: qwenbot chat --help)\n');
  });

  it('bin/qwenbot.js answers --version too', async () => {
    const run = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['bin/qwenbot.js', '--version'], { env, stdio: 'pipe' });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', () => resolve(out));
    });
    expect(run).toMatch(/^qwenbot \d+\.\d+\.\d+\n$/);
  });

  it('without DASHSCOPE_API_KEY it says what to set and exits 2', async () => {
    const run = await runCli(['chat', 'hi'], { DASHSCOPE_API_KEY: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^qwenbot: DASHSCOPE_API_KEY is not set\./);
  });

  it('npm start with no platform credentials explains what to set and how to try chat', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DISCORD_TOKEN');
    expect(run.stderr).toContain('SLACK_BOT_TOKEN');
    expect(run.stderr).toContain('npm run demo');
  });
});
