/**
 * qwen-mt in the simulator: a deterministic "translation" (`[French] <text>`), and DashScope's refusals
 * for what qwen-mt does not take: a system message ("Role must be in [user, assistant].", as reported
 * from Model Studio), more than one message, or no `translation_options`.
 */
import type { SimError } from './sim-types.ts';

export function isTranslationModel(model: string): boolean {
  return model.startsWith('qwen-mt-');
}

interface TranslationBody {
  messages: Array<{ role: string; content: unknown }>;
  translation_options?: unknown;
}

const invalid = (message: string): SimError => ({ status: 400, code: 'invalid_parameter_error', message });

/** Why DashScope would refuse this qwen-mt request, or undefined when it takes it. */
export function translationProblem(body: TranslationBody): SimError | undefined {
  if (body.messages.some((m) => m.role !== 'user' && m.role !== 'assistant'))
    return invalid('Role must be in [user, assistant].');
  if (body.messages.length !== 1) return invalid('Only a single user message is supported for translation.');
  const opts = body.translation_options as { target_lang?: unknown } | undefined;
  if (!opts || typeof opts.target_lang !== 'string' || !opts.target_lang)
    return invalid('translation_options.target_lang is required for qwen-mt models.');
  return undefined;
}

/** The deterministic "translation": the target language in brackets, then the text as it was. */
export function simTranslation(body: TranslationBody): string {
  const target = (body.translation_options as { target_lang: string }).target_lang;
  const content = body.messages[0]?.content;
  return `[${target}] ${typeof content === 'string' ? content : JSON.stringify(content)}`;
}
