/**
 * The simulator's explicit context cache, through the real openai SDK: what `usage` reports for marked
 * prefixes (writes, hits, lifetime, look-back, minimum size) and the 400 for more than 4 markers.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { TEST_API_KEY } from '../support/harness.ts';
import { ManualClock } from '../support/manual-clock.ts';

let sim: DashScopeSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

type Message = { role: 'system' | 'user' | 'assistant'; content: unknown };
const mark = (text: string) => [{ type: 'text', text, cache_control: { type: 'ephemeral' } }];
const LONG = 'The house rules, at length. '.repeat(250); // about 1,750 tokens

async function open() {
  const clock = new ManualClock();
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY, now: clock.now, responder: () => 'ok' });
  const sdk = new OpenAI({ apiKey: TEST_API_KEY, baseURL: sim.baseUrl, maxRetries: 0 });
  const ask = async (messages: Message[]) => {
    const stream = await sdk.chat.completions.create({
      model: 'qwen-plus',
      messages: messages as OpenAI.ChatCompletionMessageParam[],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    const details = usage?.prompt_tokens_details as
      | { cached_tokens: number; cache_creation_input_tokens?: number }
      | undefined;
    return {
      prompt: usage?.prompt_tokens ?? 0,
      cached: details?.cached_tokens ?? 0,
      written: details?.cache_creation_input_tokens,
    };
  };
  return { clock, sdk, ask };
}

describe('the simulator’s explicit context cache', () => {
  it('the first request writes the marked prefix, the next reads it', async () => {
    const { ask } = await open();
    const first = await ask([
      { role: 'system', content: mark(LONG) },
      { role: 'user', content: 'hello' },
    ]);
    expect(first.cached).toBe(0);
    expect(first.written).toBeGreaterThan(1024);
    expect(first.written).toBeLessThan(first.prompt);
    // Same prefix, spelled as a plain string this time, and a different question after it.
    const second = await ask([
      { role: 'system', content: mark(LONG) },
      { role: 'user', content: 'another question' },
    ]);
    expect(second.cached).toBe(first.written);
    expect(second.written).toBe(0);
  });

  it('a later marker reads the earlier prefix (look-back) and writes only the new part', async () => {
    const { ask } = await open();
    const first = await ask([
      { role: 'system', content: mark(LONG) },
      { role: 'user', content: 'q1' },
    ]);
    const second = await ask([
      { role: 'system', content: LONG },
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: mark(`a1 ${'x'.repeat(800)}`) },
      { role: 'user', content: 'q2' },
    ]);
    expect(second.cached).toBe(first.written);
    expect(second.written).toBeGreaterThan(200);
    expect(second.written).toBeLessThan(300);
    // A changed system prompt shares no prefix: nothing is read.
    const changed = await ask([
      { role: 'system', content: `${LONG}!` },
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: mark(`a1 ${'x'.repeat(800)}`) },
    ]);
    expect(changed.cached).toBe(0);
  });

  it('looks back at most 20 content blocks from a marker', async () => {
    const { ask } = await open();
    const base: Message[] = [{ role: 'system', content: mark(LONG) }];
    await ask([...base, { role: 'user', content: 'q' }]);
    const filler = (n: number): Message[] =>
      Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
    const near = await ask([
      { role: 'system', content: LONG },
      ...filler(19),
      { role: 'user', content: mark('near') },
    ]);
    expect(near.cached).toBeGreaterThan(1024);
    const far = await ask([
      { role: 'system', content: LONG },
      ...filler(21),
      { role: 'user', content: mark('far') },
    ]);
    expect(far.cached).toBe(0);
  });

  it('a prefix below 1,024 tokens is not cached', async () => {
    const { ask } = await open();
    const short: Message[] = [
      { role: 'system', content: mark('Be brief.') },
      { role: 'user', content: 'hi' },
    ];
    expect((await ask(short)).written).toBe(0);
    expect((await ask(short)).cached).toBe(0);
    expect(sim?.cache.size).toBe(0);
  });

  it('an entry lives 5 minutes, renewed by each hit', async () => {
    const { ask, clock } = await open();
    const messages: Message[] = [
      { role: 'system', content: mark(LONG) },
      { role: 'user', content: 'hi' },
    ];
    const written = (await ask(messages)).written;
    await clock.advance(4 * 60_000);
    expect((await ask(messages)).cached).toBe(written);
    await clock.advance(4 * 60_000); // 8 minutes after the write, 4 after the hit
    expect((await ask(messages)).cached).toBe(written);
    await clock.advance(5 * 60_000 + 1);
    const expired = await ask(messages);
    expect(expired.cached).toBe(0);
    expect(expired.written).toBe(written);
  });

  it('more than 4 markers is a 400 with DashScope’s error, nothing cached', async () => {
    const { sdk } = await open();
    const messages = Array.from({ length: 5 }, (_, i) => ({
      role: i % 2 ? ('assistant' as const) : ('user' as const),
      content: mark(`${LONG} ${i}`),
    }));
    const err = await sdk.chat.completions
      .create({ model: 'qwen-plus', messages: messages as OpenAI.ChatCompletionMessageParam[] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_parameter_error');
    expect((err as Error).message).toContain(
      'A maximum of 4 blocks with cache_control may be provided. Found 5.',
    );
    expect(sim?.cache.size).toBe(0);
  });

  it('without markers the usage has no creation figure (implicit cache only)', async () => {
    const { ask } = await open();
    const plain = await ask([
      { role: 'system', content: LONG },
      { role: 'user', content: 'hi' },
    ]);
    expect(plain.cached).toBe(0);
    expect(plain.written).toBeUndefined();
  });
});
