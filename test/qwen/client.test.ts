import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResult, StreamEvent } from '../../src/qwen/client.ts';
import { QwenError } from '../../src/qwen/errors.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { TEST_API_KEY } from '../support/harness.ts';
import { type QwenClientOptions, simQwenClient } from '../support/qwen-client.ts';

let sim: DashScopeSim;
const sleeps: number[] = [];

function client(over: Partial<QwenClientOptions> = {}) {
  // Retry waits are recorded, not slept.
  return simQwenClient(sim.baseUrl, { sleep: async (ms) => void sleeps.push(ms), ...over });
}

async function collect(gen: AsyncGenerator<StreamEvent, ChatResult>) {
  const events: StreamEvent[] = [];
  for (let n = await gen.next(); ; n = await gen.next()) {
    if (n.done) return { events, result: n.value };
    events.push(n.value);
  }
}

async function failure(gen: AsyncGenerator<StreamEvent, ChatResult>) {
  const events: StreamEvent[] = [];
  try {
    for (let n = await gen.next(); !n.done; n = await gen.next()) events.push(n.value);
  } catch (err) {
    expect(err).toBeInstanceOf(QwenError);
    return {
      err: err as QwenError,
      text: events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join(''),
    };
  }
  throw new Error('expected the stream to fail');
}

const ask = (text = 'hi', extra = {}) => ({
  model: 'qwen-plus',
  messages: [{ role: 'user' as const, content: text }],
  ...extra,
});

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
});
afterAll(() => sim.close());

describe('QwenClient.streamChat against the simulator', () => {
  it('streams the answer with usage and sends DashScope extras as top-level fields', async () => {
    sim.script({ text: 'Hello from Qwen, 你好世界！' });
    const { events, result } = await collect(
      client().streamChat(ask('hi', { enableThinking: false, enableSearch: true, maxTokens: 512 })),
    );
    const text = events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('');
    expect(text).toBe('Hello from Qwen, 你好世界！');
    expect(result.text).toBe(text);
    expect(result.finishReason).toBe('stop');
    expect(result.usage?.completionTokens).toBeGreaterThan(0);
    const body = sim.chatRequests().at(-1);
    expect(body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      enable_thinking: false,
      enable_search: true,
      max_completion_tokens: 512,
    });
    expect(sim.requests.at(-1)?.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
  });

  it('accumulates reasoning separately from the answer when thinking is on', async () => {
    sim.script({ reasoning: 'First, consider the question. Then answer.', text: 'The answer is 42.' });
    const { events, result } = await collect(
      client().streamChat(ask('q', { model: 'qwen3-max', enableThinking: true })),
    );
    expect(result.reasoning).toBe('First, consider the question. Then answer.');
    expect(result.text).toBe('The answer is 42.');
    const firstText = events.findIndex((e) => e.type === 'text');
    expect(events.slice(0, firstText).every((e) => e.type === 'reasoning')).toBe(true);
    expect(result.usage?.reasoningTokens).toBeGreaterThan(0);
  });

  it('reassembles SSE split at arbitrary bytes, including inside multi-byte characters', async () => {
    const text = '混合 text — with emoji 🎉🎉 and 中文字符 across many chunks. '.repeat(8);
    sim.script({ text, splitBytes: true, chunkChars: 3 });
    const { result } = await collect(client().streamChat(ask()));
    expect(result.text).toBe(text);
  });

  it('assembles tool calls from DashScope-style deltas', async () => {
    sim.script({ toolCalls: [{ name: 'search_faq', arguments: '{"query":"reset my password"}' }] });
    const { result } = await collect(client().streamChat(ask()));
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls).toEqual([
      { id: expect.stringMatching(/^call_/), name: 'search_faq', arguments: '{"query":"reset my password"}' },
    ]);
  });

  it('retries a 429 before the first token, then succeeds', async () => {
    sleeps.length = 0;
    sim.script(
      { error: { status: 429, code: 'limit_requests', message: 'Requests rate limit exceeded' } },
      { text: 'ok after retry' },
    );
    const { events, result } = await collect(client().streamChat(ask()));
    expect(result.text).toBe('ok after retry');
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(1);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(800);
  });

  it('honours Retry-After (seconds or ms) on a 429 instead of its own shorter backoff', async () => {
    sleeps.length = 0;
    const limited = (headers: Record<string, string>) => ({
      error: { status: 429, code: 'limit_requests', message: 'Requests rate limit exceeded', headers },
    });
    sim.script(limited({ 'retry-after': '7' }), limited({ 'retry-after-ms': '2500' }), { text: 'finally' });
    const { result } = await collect(client().streamChat(ask()));
    expect(result.text).toBe('finally');
    // Backoff alone would wait ~1 s then ~2 s; DashScope asked for 7 s then 2.5 s.
    expect(sleeps).toEqual([7000, 2500]);
  });

  it('does not wait out a Retry-After longer than a user would: says busy at once', async () => {
    sleeps.length = 0;
    const n = sim.chatRequests().length;
    sim.script({ error: { status: 429, code: 'limit_requests', headers: { 'retry-after': '120' } } });
    const { err } = await failure(client().streamChat(ask()));
    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(120_000);
    expect(sim.chatRequests().length - n).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('gives up after the configured retries with rate_limited', async () => {
    const n = sim.chatRequests().length;
    const e429 = { error: { status: 429, code: 'limit_requests' } };
    sim.script(e429, e429, e429);
    const { err } = await failure(client().streamChat(ask()));
    expect(err.code).toBe('rate_limited');
    expect(sim.chatRequests().length - n).toBe(3);
    expect(err.userMessage('en')).toMatch(/busy/);
    expect(err.userMessage('zh')).toMatch(/繁忙/);
  });

  it.each([
    [400, 'data_inspection_failed', 'moderated', /declined/],
    [400, 'Arrearage', 'overdue', /unavailable/],
    [401, 'invalid_api_key', 'auth', /API key/],
    [403, 'Model.AccessDenied', 'model_unavailable', /not available/],
    [404, 'model_not_found', 'model_unavailable', /not available/],
    [400, 'invalid_parameter_error', 'context_too_long', /too long/],
    [429, 'insufficient_quota', 'quota_exhausted', /quota.*operator/],
  ] as const)('maps HTTP %i %s to %s without retrying', async (status, code, mapped, line) => {
    const n = sim.chatRequests().length;
    const message = code === 'invalid_parameter_error' ? 'Range of input length should be [1, 129024]' : code;
    sim.script({ error: { status, code, message } });
    const { err } = await failure(client().streamChat(ask()));
    expect(err.code).toBe(mapped);
    expect(err.providerCode).toBe(code);
    expect(err.userMessage('en')).toMatch(line);
    expect(sim.chatRequests().length - n).toBe(1);
  });

  it.each([
    [500, 'internal_error', 'server'],
    [500, 'RequestTimeOut', 'timeout'],
    [503, 'ModelServingError', 'model_unavailable'],
  ] as const)('retries HTTP %i %s, then reports %s', async (status, code, mapped) => {
    const n = sim.chatRequests().length;
    sim.script({ error: { status, code } }, { error: { status, code } }, { error: { status, code } });
    const { err } = await failure(client().streamChat(ask()));
    expect(err.code).toBe(mapped);
    expect(sim.chatRequests().length - n).toBe(3);
  });

  it('times out when the first token is slow', async () => {
    sim.script({ text: 'late', firstTokenDelayMs: 1500 });
    const { err } = await failure(client({ firstTokenTimeoutMs: 300, retries: 0 }).streamChat(ask()));
    expect(err.code).toBe('timeout');
    expect(err.userMessage('en')).toMatch(/too long/);
  });

  it('a stream cut mid-way keeps the text already yielded and is never replayed', async () => {
    const n = sim.chatRequests().length;
    sim.script({ text: 'This answer will be cut off somewhere in the middle.', cutAfterChunks: 3 });
    const { err, text } = await failure(client().streamChat(ask()));
    expect(text).toBe('This answer will b');
    expect(['network', 'server']).toContain(err.code);
    expect(sim.chatRequests().length - n).toBe(1);
  });

  it('an error frame after streaming began surfaces as a server error after the partial text', async () => {
    sim.script({ text: 'Partial answer that then fails.', errorAfterChunks: 2 });
    const { err, text } = await failure(client().streamChat(ask()));
    expect(text).toBe('Partial answ');
    expect(err.code).toBe('server');
    expect(err.providerCode).toBe('internal_error');
  });

  it('a moderation error frame mid-stream maps to moderated', async () => {
    sim.script({
      text: 'Some text then refusal',
      errorAfterChunks: 1,
      errorFrame: {
        code: 'data_inspection_failed',
        message: 'Output data may contain inappropriate content.',
      },
    });
    const { err } = await failure(client().streamChat(ask()));
    expect(err.code).toBe('moderated');
  });

  it('stops at the total timeout when the stream stalls after the first token', async () => {
    sim.script({ text: 'starts then stalls forever', stallAfterChunks: 1 });
    const { err, text } = await failure(client({ totalTimeoutMs: 400, retries: 0 }).streamChat(ask()));
    expect(err.code).toBe('timeout');
    expect(text).toBe('starts');
  });

  it('aborts through an AbortSignal', async () => {
    sim.script({ text: 'slow', firstTokenDelayMs: 1000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const { err } = await failure(client().streamChat(ask('x', { signal: controller.signal })));
    expect(err.code).toBe('aborted');
  });

  it('a stopped stream fails with what had streamed, marked as billed (the stream had opened)', async () => {
    sim.script({ text: 'one two three four five six seven', chunkChars: 4, chunkDelayMs: 20 });
    const controller = new AbortController();
    const gen = client().streamChat(ask('x', { signal: controller.signal }));
    const first = await gen.next();
    expect(first.value).toEqual({ type: 'text', text: 'one ' });
    controller.abort();
    const { err } = await failure(gen);
    expect(err.code).toBe('aborted');
    expect(err.partial).toMatchObject({ opened: true, usage: null });
    expect(err.partial?.text.startsWith('one ')).toBe(true);
  });

  it('an HTTP refusal fails with nothing billed (the stream never opened)', async () => {
    sim.script({ error: { status: 400, code: 'data_inspection_failed' } });
    const { err } = await failure(client().streamChat(ask()));
    expect(err.partial).toEqual({ opened: false, text: '', reasoning: '', usage: null });
  });

  it('rejects a wrong key as auth', async () => {
    const { err } = await failure(client({ apiKey: 'sk-wrong', retries: 0 }).streamChat(ask()));
    expect(err.code).toBe('auth');
    expect(err.status).toBe(401);
  });
});

describe('QwenClient.probe (the /model switch check)', () => {
  it('a model that answers passes', async () => {
    expect(await client().probe('qwen-max')).toBeUndefined();
  });

  it.each([
    [404, 'model_not_found', '404 model_not_found'],
    [403, 'Model.AccessDenied', '403 Model.AccessDenied'],
  ] as const)('HTTP %i %s means not available', async (status, code, why) => {
    sim.script({ error: { status, code } });
    expect(await client().probe('qwen-max')).toEqual({ kind: 'refused', why });
  });

  it.each([
    ['a 5xx', { error: { status: 500, code: 'internal_error' } }, '500 internal_error'],
    ['a 429', { error: { status: 429, code: 'limit_requests' } }, '429 limit_requests'],
    ['a timeout', { text: 'late', firstTokenDelayMs: 800 }, 'timeout'],
    ['a bad key', { error: { status: 401, code: 'invalid_api_key' } }, '401 invalid_api_key'],
  ] as const)('%s neither switches silently nor pretends the model is missing', async (_, step, why) => {
    sim.script(step);
    const reason = await client({ firstTokenTimeoutMs: 300, retries: 0 }).probe('qwen-max');
    expect(reason).toEqual({ kind: 'unchecked', why });
  });
});

describe('QwenClient.embed', () => {
  it('sends batches of at most 10 float inputs with the configured dimensions, results in order', async () => {
    const n = sim.requests.length;
    const texts = Array.from({ length: 23 }, (_, i) => `question number ${i}`);
    const vectors = await client({ embeddingDimensions: 256 }).embed(texts);
    expect(vectors).toHaveLength(23);
    expect(vectors[0]).toHaveLength(256);
    const sent = sim.requests.slice(n).map((r) => r.body);
    expect(sent.map((b) => (b.input as string[]).length)).toEqual([10, 10, 3]);
    for (const b of sent)
      expect(b).toMatchObject({ encoding_format: 'float', dimensions: 256, model: 'text-embedding-v4' });
    const again = await client({ embeddingDimensions: 256 }).embed(['question number 7']);
    expect(again[0]).toEqual(vectors[7]);
  });

  it('the simulator refuses 11 inputs the way DashScope does', async () => {
    const res = await fetch(`${sim.baseUrl}/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'text-embedding-v4',
        input: Array.from({ length: 11 }, () => 'x'),
        encoding_format: 'float',
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.message).toMatch(/batch size is invalid, it should not be larger than 10/);
  });
});
