import { z } from 'zod';
import { modelName } from './model-name.ts';

/** DashScope takes at most 10 MB of base64 audio per request: about 7.5 MB of bytes. */
const MAX_VOICE_BYTES = 7_864_320;
const voiceDefaults = {
  enabled: true,
  model: 'qwen3-asr-flash',
  maxSeconds: 300,
  maxBytes: 7 * 1024 * 1024,
  quoteChars: 300,
  language: null,
};
/** Voice messages (Discord) and audio clips (Slack): transcribed by a speech model, then answered. */
export const voiceSchema = z
  .strictObject({
    enabled: z.boolean().default(voiceDefaults.enabled),
    /** A speech model taking `input_audio` through chat completions (not a chat model of `models`). */
    model: modelName.default(voiceDefaults.model),
    /** qwen3-asr-flash takes up to 5 minutes of audio. */
    maxSeconds: z.number().positive().max(300).default(voiceDefaults.maxSeconds),
    maxBytes: z.number().int().min(1).max(MAX_VOICE_BYTES).default(voiceDefaults.maxBytes),
    /** Characters of the transcript quoted above the answer (the whole transcript goes to the model). */
    quoteChars: z.number().int().min(20).max(1500).default(voiceDefaults.quoteChars),
    /** asr_options.language when every voice message is in one language (e.g. "zh", "en"); null: detect. */
    language: z
      .string()
      .regex(/^[a-z]{2,3}$/, 'a language code such as zh or en')
      .nullable()
      .default(voiceDefaults.language),
  })
  .default(voiceDefaults);
