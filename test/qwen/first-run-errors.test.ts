/**
 * The three mistakes of a first run against the model service, as the terminal user (the operator)
 * and as a chat user see them: a wrong key, a base URL whose path does not exist, a closed port. Each
 * has its own line; the operator's names the URL (never the key) and the setting to check.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QwenClient } from '../../src/qwen/client.ts';
import { QwenError, safeUrl } from '../../src/qwen/errors.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { TEST_API_KEY } from '../support/harness.ts';
import { closedPort, runMain } from '../support/run-main.ts';

const WRONG_KEY = 'sk-wrong-key-9876543210fedcba';
let sim: DashScopeSim;
let dir: string;
let port: number;

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
  dir = mkdtempSync(path.join(tmpdir(), 'qwenbot-first-errors-'));
  port = await closedPort();
});
afterAll(() => sim.close());

/** `npm start -- chat hello` with only these settings. */
function chat(env: { key: string; baseUrl: string }) {
  return runMain(['chat', 'hello'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      DASHSCOPE_API_KEY: env.key,
      DASHSCOPE_BASE_URL: env.baseUrl,
      QWENBOT_STORE: 'sqlite://:memory:',
      QWENBOT_CONFIG: path.resolve('test/fixtures/fast.yaml'),
    },
  });
}

describe('the terminal user (the operator) is told what to check', () => {
  it('a wrong key: DashScope refused it, at this URL, check DASHSCOPE_API_KEY and the region', async () => {
    const run = await chat({ key: WRONG_KEY, baseUrl: sim.baseUrl });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: DashScope at ${sim.baseUrl} refused the API key (401 invalid_api_key): check DASHSCOPE_API_KEY, and that the key belongs to this region (qwen.region, DASHSCOPE_BASE_URL); keys are per region.\n`,
    );
    expect(run.stderr + run.stdout).not.toContain(WRONG_KEY);
    expect(run.stderr).not.toMatch(/operator/i);
  });

  it('a base URL whose path does not exist: a 404 from that URL, not "model not available"', async () => {
    const wrong = `${new URL(sim.baseUrl).origin}/v1`;
    const run = await chat({ key: TEST_API_KEY, baseUrl: wrong });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: ${wrong} answered 404 NotFound (no such path): it is not an OpenAI-compatible DashScope base URL. Check DASHSCOPE_BASE_URL (it ends in /compatible-mode/v1), or unset it and set qwen.region.\n`,
    );
    expect(run.stderr).not.toMatch(/not available/);
  });

  it('a closed port: nothing is listening at that URL', async () => {
    const run = await chat({ key: TEST_API_KEY, baseUrl: `http://127.0.0.1:${port}/compatible-mode/v1` });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: Nothing is listening at http://127.0.0.1:${port}/compatible-mode/v1 (connection refused): check DASHSCOPE_BASE_URL (host and port), and that the service is running.\n`,
    );
  });

  it('a host that DNS does not know (no lookup made: the socket error as fetch reports it)', () => {
    const socket = Object.assign(new Error('getaddrinfo ENOTFOUND dashscope.example.invalid'), {
      code: 'ENOTFOUND',
    });
    const err = new QwenError('network', 'Connection error.', {
      cause: new TypeError('fetch failed', { cause: socket }),
    });
    err.baseUrl = 'https://dashscope.example.invalid/compatible-mode/v1';
    expect(err.userMessage('en', 'operator')).toBe(
      'The host of https://dashscope.example.invalid/compatible-mode/v1 was not found (DNS): check DASHSCOPE_BASE_URL, and this machine’s network and DNS.',
    );
    expect(err.userMessage('en')).toBe('The model service could not be reached. Please try again.');
  });

  it('a URL is shown without user, password or query', () => {
    expect(safeUrl('https://someone:url-password@example.test:8443/compatible-mode/v1?token=s#x')).toBe(
      'https://example.test:8443/compatible-mode/v1',
    );
  });
});

describe('a chat user gets a line without settings, with the same distinctions', () => {
  const client = (apiKey: string, baseUrl: string) =>
    new QwenClient({
      apiKey,
      baseUrl,
      firstTokenTimeoutMs: 5000,
      totalTimeoutMs: 10_000,
      retries: 0,
      retryBaseDelayMs: 1,
      embeddingModel: 'text-embedding-v4',
      embeddingDimensions: 8,
      embeddingConcurrency: 1,
    });
  async function failureOf(apiKey: string, baseUrl: string): Promise<QwenError> {
    const stream = client(apiKey, baseUrl).streamChat({
      model: 'qwen-plus',
      messages: [{ role: 'user', content: 'hi' }],
    });
    try {
      for (let n = await stream.next(); !n.done; n = await stream.next());
    } catch (err) {
      expect(err).toBeInstanceOf(QwenError);
      return err as QwenError;
    }
    throw new Error('expected a failure');
  }

  it('a wrong key, a wrong path, a closed port', async () => {
    const auth = await failureOf(WRONG_KEY, sim.baseUrl);
    const path404 = await failureOf(TEST_API_KEY, `${new URL(sim.baseUrl).origin}/v1`);
    const refused = await failureOf(TEST_API_KEY, `http://127.0.0.1:${port}/compatible-mode/v1`);
    expect([auth.code, path404.code, refused.code]).toEqual(['auth', 'endpoint_not_found', 'network']);
    expect(auth.userMessage('en')).toBe(
      'The bot cannot reach the model: its API key was refused. An operator needs to check it.',
    );
    expect(path404.userMessage('en')).toBe(
      'The bot cannot reach the model: its model service address is wrong. An operator needs to check it.',
    );
    expect(refused.userMessage('en')).toBe('The model service could not be reached. Please try again.');
    // The log line names the URL called, for the operator reading it.
    expect(refused.toLog()).toMatchObject({ baseUrl: `http://127.0.0.1:${port}/compatible-mode/v1` });
    expect(path404.userMessage('zh', 'operator')).toContain(`${new URL(sim.baseUrl).origin}/v1`);
  });

  it('an unknown model is still "not available", not a wrong path', async () => {
    const stream = client(TEST_API_KEY, sim.baseUrl).streamChat({
      model: 'qwen-nonexistent',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const err = await (async () => {
      try {
        for (let n = await stream.next(); !n.done; n = await stream.next());
      } catch (e) {
        return e as QwenError;
      }
    })();
    expect(err?.code).toBe('model_unavailable');
    expect(err?.userMessage('en', 'operator')).toBe('The model qwen-nonexistent is not available right now.');
  });
});
