import type { ChatBody, SimPace } from './sim-types.ts';
import { lastUserText } from './sim-wire.ts';

/** Roughly what qwen-plus feels like: a short wait, then a steady ~40 tokens a second. */
export const DEMO_PACE: SimPace = { tokensPerSecond: 40, firstTokenDelayMs: 600 };

/**
 * The demo's "model": echoes the question and shows off what the terminal renders (a heading, a list,
 * code), so a newcomer sees streaming and formatting without a key. Never mistaken for a real answer.
 */
export function demoAnswer(body: ChatBody): string {
  const text = lastUserText(body);
  const turns = body.messages.filter((m) => m.role === 'user').length;
  return [
    `## Simulated ${body.model}`,
    '',
    `You said: **${text}**. This conversation has ${turns} message(s) from you so far.`,
    '',
    'With a real key, Qwen answers here. Things to try:',
    '- `/model qwen-max` switches the model of this conversation',
    '- `/reset` forgets the conversation, `/help` lists every command',
    '- Ctrl-C stops an answer, Ctrl-D (or `/exit`) leaves',
    '',
    '```sh',
    'DASHSCOPE_API_KEY=sk-... npm start -- chat',
    '```',
  ].join('\n');
}
