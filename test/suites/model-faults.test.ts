/**
 * Faults on the model side, end to end through the real Discord adapter: DashScope cuts the stream,
 * answers a 429 storm or 5xx, or stalls before or after the first token. Each case checks what the
 * person sees in the channel (partial text kept, one readable line), the structured log line (level
 * and error code), that the next message is answered normally without a restart, and that the user's
 * turn is in the stored history.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from '../discord/harness.ts';
import type { ChatStep } from '../support/dashscope-sim.ts';
import { LEVEL } from './support.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness({
    // Short time limits so the stall cases are quick; retries as shipped (2) with a tiny backoff.
    config: {
      qwen: { retryBaseDelayMs: 5, retries: 2, firstTokenTimeoutMs: 400, totalTimeoutMs: 1500 },
      // One person asks a dozen questions here; the per-user limit is not what is under test.
      guards: { userMessagesPerWindow: 1000 },
    },
  });
});
afterAll(async () => {
  await h?.close();
});

const LINES = {
  network: '⚠️ The model service could not be reached. Please try again.',
  rate_limited: '⚠️ The model is busy right now (rate limit). Please try again in a minute.',
  server: '⚠️ The model service had a problem. Please try again.',
  timeout: '⚠️ The model took too long to answer.',
};

/**
 * Asks once in a fresh channel with the faults scripted, then asks again with no fault. Returns what
 * the channel shows, the log records of the failed turn, and the stored history.
 */
async function faultThenRecover(name: string, steps: ChatStep[]) {
  const channel = h.fake.addChannel(h.guild, name);
  const mark = h.logs.lines.length;
  h.sim.script(
    ...steps.map((s) => ({
      ...s,
      match: (b: { messages: unknown[] }) => JSON.stringify(b.messages).includes(`${name}-q1`),
    })),
  );
  const first = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention(`${name}-q1`) });
  const [failed] = await first;
  const failedReply = h.fake.botMessages(channel.id).at(-1);
  const logs = h.logs.records().slice(mark);

  const second = h.expectTurns(1);
  h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention(`${name}-q2`) });
  const [recovered] = await second;
  const history = await h.app.service.history.load(`discord:${h.guild.id}:${channel.id}`);
  return {
    failed,
    recovered,
    failedReply,
    replies: h.fake.botMessages(channel.id),
    logs,
    history,
  };
}

function answerFailed(logs: Array<Record<string, unknown>>) {
  return logs.filter((r) => r.msg === 'answer failed');
}

describe('the model side fails', () => {
  test('stream cut mid-answer: the partial text stays, one line says why, the next message is answered', async () => {
    const text = 'This answer will be cut somewhere in the middle of its second sentence, sadly.';
    const r = await faultThenRecover('cut', [{ text, chunkChars: 6, cutAfterChunks: 4 }]);
    expect(r.failed?.status).toBe('error');
    // What the person sees: the first four chunks, then the line.
    expect(r.failedReply?.content).toBe(`${text.slice(0, 24)}\n\n${LINES.network}`);
    expect(r.failedReply?.components).toEqual([]);
    const [log] = answerFailed(r.logs);
    expect(log?.level).toBe(LEVEL.warn);
    expect(log?.qwen).toMatchObject({ code: 'network', model: 'qwen-plus' });
    // Recovery: a normal answer to the next question, in the same channel, same process.
    expect(r.recovered?.status).toBe('answered');
    expect(r.replies.at(-1)?.content).toBe('Echo: Alice: cut-q2');
    // No lost user turn; the partial answer is stored as an error, so the model knows what it said.
    expect(r.history.map((t) => [t.role, t.text, t.status])).toEqual([
      ['user', 'cut-q1', undefined],
      ['assistant', text.slice(0, 24), 'error'],
      ['user', 'cut-q2', undefined],
      ['assistant', 'Echo: Alice: cut-q2', 'complete'],
    ]);
  });

  test('a 429 storm longer than the retries: the user is told the model is busy, then it recovers', async () => {
    const busy: ChatStep = {
      error: { status: 429, code: 'limit_requests', message: 'Requests rate limit exceeded' },
    };
    const before = h.sim.chatRequests().length;
    const r = await faultThenRecover('storm', [busy, busy, busy, busy]);
    expect(r.failed?.status).toBe('error');
    expect(r.failedReply?.content).toBe(LINES.rate_limited);
    // Three attempts (1 + 2 retries) for the first question, each logged; the fourth 429 is left over
    // for the second question, which is retried once and then answered.
    const retries = r.logs.filter((l) => l.msg === 'qwen call failed before the first token; retrying');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries[0]?.err).toMatchObject({
      code: 'rate_limited',
      status: 429,
      providerCode: 'limit_requests',
    });
    const [log] = answerFailed(r.logs);
    expect(log?.level).toBe(LEVEL.warn);
    expect(log?.qwen).toMatchObject({ code: 'rate_limited', status: 429, providerCode: 'limit_requests' });
    expect(r.recovered?.status).toBe('answered');
    expect(r.replies.at(-1)?.content).toBe('Echo: Alice: storm-q2');
    expect(h.sim.chatRequests().length - before).toBe(5);
    expect(r.history.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['storm-q1', 'storm-q2']);
  });

  test('a 429 burst shorter than the retries is absorbed: the answer arrives with no error line', async () => {
    const busy: ChatStep = { error: { status: 429, code: 'limit_burst_rate' } };
    const r = await faultThenRecover('burst', [busy, busy]);
    expect(r.failed?.status).toBe('answered');
    expect(r.failedReply?.content).toBe('Echo: Alice: burst-q1');
    expect(answerFailed(r.logs)).toEqual([]);
    expect(r.logs.filter((l) => l.msg === 'qwen call failed before the first token; retrying')).toHaveLength(
      2,
    );
  });

  test('5xx before the first token (retried, then given up) and an error frame mid-stream', async () => {
    const down: ChatStep = {
      error: { status: 500, code: 'internal_error', message: 'An internal error has occured' },
    };
    const r = await faultThenRecover('five', [down, down, down]);
    expect(r.failedReply?.content).toBe(LINES.server);
    const [log] = answerFailed(r.logs);
    expect(log?.qwen).toMatchObject({ code: 'server', status: 500, providerCode: 'internal_error' });
    expect(log?.level).toBe(LEVEL.warn);
    expect(r.recovered?.status).toBe('answered');
    expect(r.history.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['five-q1', 'five-q2']);

    const text = 'Streaming along nicely until the server fails.';
    const mid = await faultThenRecover('frame', [{ text, chunkChars: 5, errorAfterChunks: 3 }]);
    expect(mid.failedReply?.content).toBe(`${text.slice(0, 15)}\n\n${LINES.server}`);
    expect(answerFailed(mid.logs)[0]?.qwen).toMatchObject({ code: 'server', providerCode: 'internal_error' });
    expect(mid.recovered?.status).toBe('answered');
    expect(mid.history.map((t) => t.text)).toEqual([
      'frame-q1',
      text.slice(0, 15),
      'frame-q2',
      'Echo: Alice: frame-q2',
    ]);
  });

  test('a stall before the first token ends on the first-token timeout; the next message is answered', async () => {
    const started = Date.now();
    const r = await faultThenRecover('stall1', [{ firstTokenDelayMs: 5000 }]);
    expect(r.failedReply?.content).toBe(LINES.timeout);
    const [log] = answerFailed(r.logs);
    expect(log?.qwen).toMatchObject({ code: 'timeout', message: 'no token within 400 ms' });
    expect(r.recovered?.status).toBe('answered');
    expect(r.replies.at(-1)?.content).toBe('Echo: Alice: stall1-q2');
    expect(r.history.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['stall1-q1', 'stall1-q2']);
    // Bounded: far less than the 5 s the simulator would have made the user wait.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  test('a stall after the first token ends on the total timeout with the partial text kept', async () => {
    const text = 'The first words arrive, then nothing more ever comes.';
    const r = await faultThenRecover('stall2', [{ text, chunkChars: 5, stallAfterChunks: 2 }]);
    expect(r.failedReply?.content).toBe(`${text.slice(0, 10)}\n\n${LINES.timeout}`);
    const [log] = answerFailed(r.logs);
    expect(log?.qwen).toMatchObject({ code: 'timeout', message: 'answer not finished within 1500 ms' });
    expect(r.recovered?.status).toBe('answered');
    expect(r.history.map((t) => t.text)).toEqual([
      'stall2-q1',
      text.slice(0, 10),
      'stall2-q2',
      'Echo: Alice: stall2-q2',
    ]);
  });
});
