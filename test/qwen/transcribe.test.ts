/**
 * The real openai SDK against the simulator's speech recognition: what the transcriber sends
 * (input_audio data URI, asr_options at the top level, no streaming) and what comes back, and
 * DashScope-style refusals of bad audio mapped to QwenErrors that are not retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QwenError } from '../../src/qwen/errors.ts';
import { QwenTranscriber } from '../../src/qwen/transcribe.ts';
import { SIM_ASR_MAX_DATA_CHARS, simVoiceClip } from '../../src/sim/sim-asr.ts';
import { type DashScopeSim, startDashScopeSim } from '../support/dashscope-sim.ts';
import { TEST_API_KEY } from '../support/harness.ts';
import { simQwenClient } from '../support/qwen-client.ts';

let sim: DashScopeSim;
const sleeps: number[] = [];

beforeAll(async () => {
  sim = await startDashScopeSim({ apiKey: TEST_API_KEY });
});
afterAll(async () => sim?.close());

function transcriber(language: string | null = null) {
  const client = simQwenClient(sim.baseUrl, { embeddingConcurrency: 1 });

  return new QwenTranscriber(client, {
    model: 'qwen3-asr-flash',
    language,
    retries: 2,
    retryBaseDelayMs: 1000,
    timeoutMs: 5000,
    sleep: async (ms) => void sleeps.push(ms),
  });
}

async function refusal(promise: Promise<unknown>): Promise<QwenError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QwenError);
  return err as QwenError;
}

describe('QwenTranscriber', () => {
  it('sends one input_audio part with a data URI and asr_options, and reads the transcript, language and seconds', async () => {
    const bytes = simVoiceClip('你好，明天开会吗？', { seconds: 7 });
    const heard = await transcriber('zh').transcribe({ bytes, mime: 'audio/ogg', seconds: 7 });
    expect(heard).toMatchObject({ text: '你好，明天开会吗？', language: 'zh', seconds: 7 });
    const body = sim.chatRequests().at(-1);
    expect(body?.model).toBe('qwen3-asr-flash');
    expect(body?.stream).toBe(false);
    expect(body?.asr_options).toEqual({ enable_itn: false, language: 'zh' });
    expect(body?.messages).toEqual([
      {
        role: 'user',
        content: [
          {
            type: 'input_audio',
            input_audio: { data: `data:audio/ogg;base64,${Buffer.from(bytes).toString('base64')}` },
          },
        ],
      },
    ]);
  });

  it('hears audio without words as an empty transcript', async () => {
    const ogg = new Uint8Array([...Buffer.from('OggS'), ...new Uint8Array(60)]);
    expect((await transcriber().transcribe({ bytes: ogg, mime: 'audio/ogg' })).text).toBe('');
  });

  it('bad audio is refused with a 400 that is not retried', async () => {
    sleeps.length = 0;
    const notAudio = await refusal(
      transcriber().transcribe({ bytes: new TextEncoder().encode('hello'), mime: 'audio/ogg' }),
    );
    expect(notAudio).toMatchObject({ status: 400, providerCode: 'invalid_parameter_error' });
    const tooLong = await refusal(
      transcriber().transcribe({ bytes: simVoiceClip('long', { seconds: 301 }), mime: 'audio/ogg' }),
    );
    expect(tooLong.message).toContain('300 seconds');
    const tooBig = new Uint8Array(Math.ceil((SIM_ASR_MAX_DATA_CHARS * 3) / 4) + 10);
    tooBig.set(Buffer.from('OggS'));
    const big = await refusal(transcriber().transcribe({ bytes: tooBig, mime: 'audio/ogg' }));
    expect(big.message).toContain('10 MB');
    expect(sleeps).toEqual([]);
  });

  it('a server fault is retried with backoff, then thrown', async () => {
    sleeps.length = 0;
    const before = sim.chatRequests().length;
    const fault = { status: 503, code: 'ModelUnavailable', message: 'busy' };
    const err = await refusal(
      transcriber().transcribe({ bytes: simVoiceClip('x', { fault }), mime: 'audio/ogg' }),
    );
    expect(err.status).toBe(503);
    expect(sim.chatRequests().length - before).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  it('a chat model refuses audio, as DashScope does', async () => {
    const res = await fetch(`${sim.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'qwen-plus',
        messages: [
          {
            role: 'user',
            content: [{ type: 'input_audio', input_audio: { data: 'data:audio/ogg;base64,T2dnUw==' } }],
          },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_parameter_error');
  });
});
