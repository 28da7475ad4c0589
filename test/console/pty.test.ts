/**
 * The chat in a real pseudo-terminal (util-linux `script`): the kernel's line discipline is in play, as
 * for a person at a terminal, so a long paste is tested where it used to be cut.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashScopeSim, lastUserText, startDashScopeSim } from '../support/dashscope-sim.ts';
import { TEST_API_KEY } from '../support/harness.ts';
import { KEYS, PtyProcess, ptyUnavailable } from './screen.ts';

const skip = ptyUnavailable();
if (skip) console.log(`skipping the pseudo-terminal tests: ${skip}`);

let sim: DashScopeSim;
let env: Record<string, string>;
const running: PtyProcess[] = [];

beforeAll(async () => {
  sim = await startDashScopeSim({
    apiKey: TEST_API_KEY,
    responder: (body) => `Got ${lastUserText(body).length} characters.`,
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-pty-'));
  env = {
    PATH: process.env.PATH ?? '',
    TERM: 'xterm-256color',
    DASHSCOPE_API_KEY: TEST_API_KEY,
    DASHSCOPE_BASE_URL: sim.baseUrl,
    QWENBOT_STORE: `sqlite://${path.join(dir, 'pty.sqlite')}`,
    QWENBOT_CONFIG: path.join(process.cwd(), 'test', 'fixtures', 'fast.yaml'),
  };
});
afterAll(async () => {
  for (const p of running) p.kill();
  await sim?.close();
});

function start(command: string, extraEnv: Record<string, string> = {}) {
  const p = new PtyProcess(command, { ...env, ...extraEnv });
  running.push(p);
  return p;
}

describe.skipIf(skip)('the chat in a real terminal', () => {
  it('a pasted 10,000-character line reaches the model whole (the terminal used to cut it at 4,095)', async () => {
    const chat = start(`${process.execPath} src/main.ts chat`);
    await chat.waitFor('> ');
    const pasted = 'lorem ipsum '.repeat(834).slice(0, 10_000);
    chat.type(`${pasted}${KEYS.enter}`);
    await chat.waitFor('Got 10000 characters.');
    expect(lastUserText(sim.chatRequests().at(-1) ?? { model: '', messages: [] })).toBe(pasted);
    chat.type(KEYS.ctrlD);
    expect(await chat.exited).toBe(0);
  });

  it('npm run demo streams its answer at a model-like pace, rendered, and leaves on Ctrl-C twice', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-demo-'));
    const demo = start(`${process.execPath} src/demo.ts`, {
      QWENBOT_STORE: `sqlite://${path.join(dir, 'demo.sqlite')}`,
    });
    await demo.waitFor('> ');
    const mark = demo.text.length;
    const sentAt = Date.now();
    demo.type(`hello demo${KEYS.enter}`);
    await demo.waitFor('You said: hello demo', mark);
    const firstAt = Date.now();
    await demo.waitFor('npm start -- chat', mark);
    const doneAt = Date.now();
    // A first-token delay, then ~40 tokens a second: the answer takes well over a second to arrive.
    expect(firstAt - sentAt).toBeGreaterThanOrEqual(500);
    expect(doneAt - firstAt).toBeGreaterThanOrEqual(1000);
    const answer = demo.text.slice(mark);
    expect(answer).toContain('• /model qwen-max switches the model');
    expect(answer).not.toContain('**');
    await demo.waitFor(/└─\n+> /, mark);
    demo.type(KEYS.ctrlC);
    await demo.waitFor('(To leave, press Ctrl-C again', mark);
    demo.type(KEYS.ctrlC);
    expect(await demo.exited).toBe(0);
  });
});
