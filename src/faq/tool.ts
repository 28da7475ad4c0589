import type { ChatTool } from '../qwen/client.ts';
import type { Faq } from './service.ts';

export const FAQ_TOOL_NAME = 'search_faq';

/** OpenAI-style tool schema offered to the model in chat when `faq.tool` is on. */
export const faqToolDefinition: ChatTool = {
  type: 'function',
  function: {
    name: FAQ_TOOL_NAME,
    description:
      "Search this workspace's FAQ by meaning. Use it when the user asks how to do something, or about " +
      'the bot, its commands or policies; answer from the returned entries and say the answer comes from the FAQ.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', description: "The user's question, in their words" },
      },
      required: ['query'],
    },
  },
};

export interface FaqToolResult {
  matches: Array<{ question: string; answer: string; score: number }>;
  /** Guidance for the model on how to use the result. */
  note: string;
}

const MAX_ANSWER_CHARS = 1500;

/**
 * Runs a `search_faq` call: `args` is the call's JSON arguments (string or parsed). Returns a compact
 * JSON string to send back as the tool message: entries at or above the suggest threshold, best first.
 */
export async function runFaqTool(faq: Faq, args: string | Record<string, unknown>): Promise<string> {
  let parsed: unknown = args;
  if (typeof args === 'string') {
    try {
      parsed = JSON.parse(args || '{}');
    } catch {
      return JSON.stringify({ error: 'arguments must be JSON like {"query": "…"}' });
    }
  }
  const query = (parsed as { query?: unknown } | null)?.query;
  if (typeof query !== 'string' || !query.trim()) {
    return JSON.stringify({ error: 'missing "query": the question to look up' });
  }
  const { band, matches } = await faq.lookup(query.trim().slice(0, 2000));
  const result: FaqToolResult = {
    matches:
      band === 'none'
        ? []
        : matches.map((m) => ({
            question: m.entry.question,
            answer: m.entry.answer.slice(0, MAX_ANSWER_CHARS),
            score: Math.round(m.score * 100) / 100,
          })),
    note:
      band === 'confident'
        ? 'The first entry answers the question.'
        : band === 'suggest'
          ? 'These entries are related but may not answer the question exactly; use them only if they fit.'
          : 'No FAQ entry matches; answer without the FAQ.',
  };
  return JSON.stringify(result);
}
