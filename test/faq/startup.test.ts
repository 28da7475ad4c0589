import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { TEST_API_KEY } from '../support/harness.ts';
import { runMain } from '../support/run-main.ts';

let sim: DashScopeSim;
beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
});
afterAll(() => sim.close());

function runCli(args: string[], env: Record<string, string>) {
  return runMain(args, { env });
}

describe('FAQ at start-up', () => {
  it('a malformed FAQ named by QWENBOT_FAQ stops the bot with the file, line and problem', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-faq-cli-'));
    const faq = path.join(dir, 'team-faq.yaml');
    writeFileSync(faq, '- question: How do I log in?\n  answer: With SSO.\n- question: Where?\n');
    const run = await runCli(['chat', 'hello'], {
      PATH: process.env.PATH ?? '',
      DASHSCOPE_API_KEY: TEST_API_KEY,
      DASHSCOPE_BASE_URL: sim.baseUrl,
      QWENBOT_STORE: `sqlite://${path.join(dir, 'bot.sqlite')}`,
      QWENBOT_FAQ: faq,
    });
    expect(run.stderr).toBe(
      `qwenbot: configuration error: FAQ ${faq}:3: entry 2: "answer" must be non-empty text\n`,
    );
    expect(run.code).toBe(2); // the configuration exit code, like a bad setting
    expect(run.stdout).toBe('');
    expect(sim.chatRequests()).toHaveLength(0);
  });
});
