import { z } from 'zod';
import { modelName } from './model-name.ts';

/** "Translate" on a message (Discord Apps menu, Slack message shortcut): DashScope's qwen-mt. */
export const TRANSLATE_DEFAULTS = { model: 'qwen-mt-turbo', maxChars: 4000 };
export const translateSchema = z
  .strictObject({
    /** A qwen-mt model of `models` (qwen-mt-turbo, qwen-mt-plus, qwen-mt-flash). */
    model: modelName.default(TRANSLATE_DEFAULTS.model),
    /** Longer messages get a short line instead (qwen-mt-turbo reads at most 8,192 tokens). */
    maxChars: z.number().int().min(1).max(20_000).default(TRANSLATE_DEFAULTS.maxChars),
  })
  .default(TRANSLATE_DEFAULTS);

/** "Summarize thread" on a message: the thread (or the channel's latest messages) by a cheap model. */
export const SUMMARIZE_DEFAULTS = { model: 'qwen-flash', maxMessages: 50, maxChars: 40_000 };
export const summarizeSchema = z
  .strictObject({
    model: modelName.default(SUMMARIZE_DEFAULTS.model),
    /** Messages read (Discord at most 100 per call; Slack apps outside the Marketplace get 15). */
    maxMessages: z.number().int().min(2).max(100).default(SUMMARIZE_DEFAULTS.maxMessages),
    /** The most text handed to the model; older messages are left out first. */
    maxChars: z.number().int().min(500).max(400_000).default(SUMMARIZE_DEFAULTS.maxChars),
  })
  .default(SUMMARIZE_DEFAULTS);
