import type { Config } from '../config/schema.ts';
import type { CommandSpec } from '../core/commands/registry.ts';
import { type Locale, t } from '../i18n.ts';
import type { QwenClient } from '../qwen/client.ts';
import { QwenError } from '../qwen/errors.ts';
import { FaqFileError } from './loader.ts';
import type { Faq, FaqMatch } from './service.ts';

export interface FaqCommandDeps {
  faq: Faq;
  config: Config;
  qwen: QwenClient;
}

const score = (s: number) => s.toFixed(2);

/**
 * `/faq <question>` — one rest-of-line option, so the question needs no quotes on any platform.
 * `/faq reload` by an admin re-reads the FAQ. One command rather than `/faq-reload`: the issue names it
 * this way, and a one-word question "reload" is not something the FAQ could answer anyway. Access is
 * `everyone` at the registry level and the handler checks admin for the reload word.
 */
export function faqCommands(deps: FaqCommandDeps): CommandSpec[] {
  const { faq } = deps;
  if (!faq.enabled) return [];
  return [
    {
      name: 'faq',
      description: 'Look up the FAQ by meaning (admins: "{/faq} reload" re-reads it)',
      options: [
        {
          name: 'question',
          description: 'Your question, in your own words',
          type: 'string',
          required: true,
          rest: true,
          maxLength: 500,
        },
      ],
      access: 'everyone',
      ephemeral: true,
      handler: async ({ invocation, options, locale, isAdmin }) => {
        const ephemeral = !invocation.conversation.isDM && faq.settings.ephemeralInChannels;
        const question = String(options.question ?? '').trim();
        if (question.toLowerCase() === 'reload') {
          if (!isAdmin) return { text: t(locale, 'faq.reload_denied'), ephemeral: true };
          return { text: await reload(faq, locale), ephemeral: true };
        }
        return { text: await answer(deps, question, locale), ephemeral };
      },
    },
  ];
}

async function reload(faq: Faq, locale: Locale): Promise<string> {
  try {
    const stats = await faq.reload();
    return t(locale, 'faq.reloaded', {
      entries: stats.entries,
      phrasings: stats.phrasings,
      embedded: stats.embedded,
    });
  } catch (err) {
    const problem =
      err instanceof FaqFileError
        ? err.message
        : err instanceof QwenError
          ? err.userMessage(locale)
          : t(locale, 'error.internal');
    return t(locale, 'faq.reload_failed', { problem });
  }
}

async function answer(deps: FaqCommandDeps, question: string, locale: Locale): Promise<string> {
  const { faq } = deps;
  const { band, matches } = await faq.lookup(question);
  if (faq.entries.length === 0) return t(locale, 'faq.empty');
  const best = matches[0];
  if (band === 'confident' && best) {
    return t(locale, 'faq.answer', {
      question: best.entry.question,
      score: score(best.score),
      answer: best.entry.answer,
    });
  }
  if (band === 'suggest') {
    const list = matches.map((m, i) => `${i + 1}. ${m.entry.question} (${score(m.score)})`);
    return [t(locale, 'faq.did_you_mean', { query: question }), ...list, t(locale, 'faq.suggest_hint')].join(
      '\n',
    );
  }
  const none = t(locale, 'faq.no_match', { query: question });
  if (!faq.settings.generateFallback || matches.length === 0) return none;
  const generated = await generate(deps, question, matches);
  return generated ? `${t(locale, 'faq.generated')}\n\n${generated}` : none;
}

/** A model answer grounded on the closest entries (only when `faq.generateFallback` is on). */
async function generate(deps: FaqCommandDeps, question: string, matches: FaqMatch[]): Promise<string> {
  const context = matches.map((m) => `Q: ${m.entry.question}\nA: ${m.entry.answer}`).join('\n\n');
  const stream = deps.qwen.streamChat({
    model: deps.config.qwen.defaultModel,
    maxTokens: 1024,
    messages: [
      {
        role: 'system',
        content:
          "Answer the user's question using only these FAQ entries. If they do not answer it, say so " +
          `briefly. Answer in the language of the question.\n\n${context}`,
      },
      { role: 'user', content: question },
    ],
  });
  for (;;) {
    const next = await stream.next();
    if (next.done) return next.value.text.trim();
  }
}
