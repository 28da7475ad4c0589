import type { ChatMessage } from '../qwen/client.ts';
import type { Turn } from './history.ts';

/**
 * Rough token estimate for Qwen's tokenizer: about one token per CJK character and per ~4 other
 * characters. Calibrated per model by the usage DashScope returns (see TokenCalibrator).
 */
export function estimateTokens(text: string): number {
  let cjk = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if ((c >= 0x3000 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xf900 && c <= 0xfaff)) cjk++;
  }
  return Math.ceil(cjk + (text.length - cjk) / 4) + 4;
}

/** Learns, per model, how our estimate compares with the prompt_tokens DashScope reports. */
export class TokenCalibrator {
  private readonly ratios = new Map<string, number>();

  ratio(model: string): number {
    return this.ratios.get(model) ?? 1;
  }

  observe(model: string, estimated: number, actual: number): void {
    if (estimated <= 0 || actual <= 0) return;
    const sample = Math.min(4, Math.max(0.25, actual / estimated));
    const prev = this.ratios.get(model);
    this.ratios.set(model, prev === undefined ? sample : prev * 0.7 + sample * 0.3);
  }
}

/** Which side DashScope's content moderation refused: the request's input, or the answer's output. */
export type Refusal = 'input' | 'output';

/**
 * A stored turn with the moderation mark. The mark lives on the assistant turn (the user turn was stored
 * before the model was called, and history only appends); prompts leave out the marked turn and the user
 * turn it answered, because DashScope inspects the whole input and would refuse every later request.
 */
export type MarkedTurn = Turn & { refused?: Refusal };

export interface PromptInput {
  systemPrompt: string;
  /** Stored turns, oldest first; the last one is the current user turn. */
  turns: Turn[];
  /** Content parts (images) to attach to the current user turn. */
  currentImages?: string[];
  /** Tokens the prompt may use: context window minus output budget, capped by config. */
  budgetTokens: number;
  /** Prefix user turns with the speaker's name (channels with several people). */
  withNames: boolean;
  /** Multiplier from TokenCalibrator. */
  ratio?: number;
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  /** Estimated prompt tokens (uncalibrated), to calibrate against usage. */
  estimatedTokens: number;
  /** Older turns left out to fit the budget. */
  droppedTurns: number;
}

/** System prompt + the newest turns that fit the budget; the current turn is always kept. */
export function buildPrompt(input: PromptInput): BuiltPrompt {
  const ratio = input.ratio ?? 1;
  const system = input.systemPrompt.trim();
  let used = system ? estimateTokens(system) : 0;
  const picked: ChatMessage[] = [];
  let estimated = used;
  const turns = withoutRefused(input.turns);
  let i = turns.length - 1;
  for (; i >= 0; i--) {
    const turn = turns[i];
    if (!turn) continue;
    const isCurrent = i === turns.length - 1;
    let text = turnText(turn, input.withNames);
    let cost = estimateTokens(text);
    if ((used + cost) * ratio > input.budgetTokens) {
      if (!isCurrent) break;
      // The current message alone is over budget: keep its start and end.
      const room = Math.max(64, Math.floor(input.budgetTokens / ratio - used));
      text = truncateMiddle(text, room * 3);
      cost = estimateTokens(text);
    }
    used += cost;
    estimated += cost;
    if (turn.role === 'user' && isCurrent && input.currentImages?.length) {
      picked.push({
        role: 'user',
        content: [
          { type: 'text', text },
          ...input.currentImages.map((url) => ({ type: 'image_url' as const, image_url: { url } })),
        ],
      });
    } else {
      picked.push({ role: turn.role, content: text });
    }
  }
  picked.reverse();
  // A prompt must not start with an orphan assistant turn.
  while (picked[0]?.role === 'assistant') picked.shift();
  const messages: ChatMessage[] = system ? [{ role: 'system', content: system }, ...picked] : picked;
  return { messages, estimatedTokens: estimated, droppedTurns: input.turns.length - picked.length };
}

/** Leaves out every moderation-refused assistant turn and the user turn right before it. */
function withoutRefused(turns: Turn[]): Turn[] {
  const kept: Turn[] = [];
  for (const turn of turns) {
    if (turn.role === 'assistant' && (turn as MarkedTurn).refused) {
      if (kept.at(-1)?.role === 'user') kept.pop();
      continue;
    }
    kept.push(turn);
  }
  return kept;
}

function turnText(turn: Turn, withNames: boolean): string {
  let text = turn.text;
  if (turn.role === 'assistant' && turn.status === 'stopped') text += '\n[stopped by the user]';
  if (turn.role === 'assistant' && turn.status === 'interrupted') text += '\n[interrupted]';
  if (turn.role === 'user' && withNames && turn.author) return `${turn.author}: ${text}`;
  return text;
}

function truncateMiddle(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const half = Math.floor((maxChars - 20) / 2);
  return `${text.slice(0, half)}\n[… ${text.length - 2 * half} characters left out …]\n${text.slice(-half)}`;
}

/** Fills {botName}, {date}, {time}, {platform} in the configured system prompt. */
export function renderSystemPrompt(
  template: string,
  vars: { botName: string; platform: string; now: Date },
): string {
  const iso = vars.now.toISOString();
  const values: Record<string, string> = {
    botName: vars.botName,
    platform: vars.platform,
    date: iso.slice(0, 10),
    time: iso.slice(11, 16),
  };
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}
