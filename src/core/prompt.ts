import type { ChatMessage } from '../qwen/client.ts';
import { cacheMarkerPositions, stableStart, withCacheMarkers } from './cache-markers.ts';
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
  /**
   * Mark the stable prefix for DashScope's explicit context cache (`models.<id>.cache: explicit`);
   * `leadTokens`: estimated tokens of the tool schemas, which precede the messages; `windowFull`: the
   * stored history is at its cap, so its oldest turn changes every turn.
   */
  cache?: { leadTokens: number; windowFull?: boolean };
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  /** Estimated prompt tokens (uncalibrated), to calibrate against usage. */
  estimatedTokens: number;
  /** Older turns left out to fit the budget. */
  droppedTurns: number;
  /** `cache_control` markers set (explicit context cache). */
  cacheMarkers: number;
}

/** System prompt + the newest turns that fit the budget; the current turn is always kept. */
export function buildPrompt(input: PromptInput): BuiltPrompt {
  const ratio = input.ratio ?? 1;
  const system = input.systemPrompt.trim();
  let used = system ? estimateTokens(system) : 0;
  const picked: ChatMessage[] = [];
  const costs: number[] = [];
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
    costs.push(cost);
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
  costs.reverse();
  // A sliding start would change the cached prefix every turn: start where it stays put for a while.
  if (input.cache && (i >= 0 || input.cache.windowFull)) {
    const first = i + 1;
    const skip = stableStart(turns, first) - first;
    for (const cost of costs.splice(0, skip)) estimated -= cost;
    picked.splice(0, skip);
  }
  // A prompt must not start with an orphan assistant turn.
  while (picked[0]?.role === 'assistant') {
    picked.shift();
    costs.shift();
  }
  let messages: ChatMessage[] = system ? [{ role: 'system', content: system }, ...picked] : picked;
  let cacheMarkers = 0;
  if (input.cache) {
    const messageTokens = (system ? [estimateTokens(system), ...costs] : costs).map((n) => n * ratio);
    const positions = cacheMarkerPositions(messages, { leadTokens: input.cache.leadTokens, messageTokens });
    messages = withCacheMarkers(messages, positions);
    cacheMarkers = positions.length;
  }
  return {
    messages,
    estimatedTokens: estimated,
    droppedTurns: input.turns.length - picked.length,
    cacheMarkers,
  };
}

/** Leaves out every moderation-refused assistant turn and the user turn right before it. */
function withoutRefused(turns: Turn[]): Turn[] {
  const kept: Turn[] = [];
  for (const turn of turns) {
    if (turn.role === 'assistant' && turn.refused) {
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

/**
 * Fills {botName}, {date}, {time}, {platform} in the configured system prompt. With `hourlyTime` (models
 * on the explicit context cache) {time} is the current hour as a range ("14:00–15:00"): a minute-exact
 * time would change the cached prefix every minute, and with it every cached token of the history.
 */
export function renderSystemPrompt(
  template: string,
  vars: { botName: string; platform: string; now: Date; hourlyTime?: boolean },
): string {
  const iso = vars.now.toISOString();
  const hour = Number(iso.slice(11, 13));
  const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
  const values: Record<string, string> = {
    botName: vars.botName,
    platform: vars.platform,
    date: iso.slice(0, 10),
    time: vars.hourlyTime ? `${hh(hour)}–${hh(hour + 1)}` : iso.slice(11, 16),
  };
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}
