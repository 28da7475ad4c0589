/**
 * qwen-mt in the DashScope simulator, through the real openai SDK: what DashScope takes (one user
 * message plus translation_options) and what it refuses (a system message, several messages, no
 * translation_options), so the bot's Translate is held to DashScope's rules.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';

let sim: DashScopeSim;
let sdk: OpenAI;
beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: 'sk-mt' });
  sdk = new OpenAI({ apiKey: 'sk-mt', baseURL: sim.baseUrl, maxRetries: 0 });
});
afterAll(async () => sim?.close());

const create = (body: Record<string, unknown>) =>
  sdk.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);

describe('qwen-mt in the simulator', () => {
  it('translates one user message into translation_options.target_lang, deterministically', async () => {
    const done = await create({
      model: 'qwen-mt-turbo',
      messages: [{ role: 'user', content: 'Bonjour' }],
      translation_options: { source_lang: 'auto', target_lang: 'English' },
    });
    expect(done.choices[0]?.message.content).toBe('[English] Bonjour');
    expect(done.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('refuses a system message as DashScope does (400 invalid_parameter_error)', async () => {
    const refused = await create({
      model: 'qwen-mt-plus',
      messages: [
        { role: 'system', content: 'You are a translator.' },
        { role: 'user', content: 'Bonjour' },
      ],
      translation_options: { source_lang: 'auto', target_lang: 'English' },
    }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((refused as InstanceType<typeof OpenAI.APIError>).code).toBe('invalid_parameter_error');
    expect((refused as Error).message).toContain('Role must be in [user, assistant].');
  });

  it('refuses qwen-mt without translation_options, and a multi-turn request', async () => {
    const bare = await create({ model: 'qwen-mt-turbo', messages: [{ role: 'user', content: 'Hi' }] }).catch(
      (err: unknown) => err,
    );
    expect((bare as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((bare as Error).message).toContain('translation_options');
    const turns = await create({
      model: 'qwen-mt-turbo',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Salut' },
        { role: 'user', content: 'Bye' },
      ],
      translation_options: { source_lang: 'auto', target_lang: 'French' },
    }).catch((err: unknown) => err);
    expect((turns as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
  });
});
