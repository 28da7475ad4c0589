/**
 * Block Kit as the fake checks it (Slack's block reference): at most 50 blocks; section text ≤ 3,000
 * characters; an `actions` block holds 1–25 elements; a `context_actions` block 1–5 `feedback_buttons`
 * or `icon_button` elements; feedback buttons need both buttons with plain_text text and a value
 * (≤ 2,000 characters); buttons need plain_text text (≤ 75) and an action_id ≤ 255. Anything else
 * answers `invalid_blocks`, as Slack does. A workspace can be made to refuse `context_actions` (older
 * clients and surfaces), so the bot's fallback to plain buttons can be exercised.
 */

import type { MethodContext, Params, Result } from './methods.ts';

type Block = Record<string, unknown>;
type Method = (ctx: MethodContext, p: Params) => Result;

const plainText = (v: unknown, max: number) => {
  const t = v as { type?: string; text?: unknown } | undefined;
  return t?.type === 'plain_text' && typeof t.text === 'string' && t.text.length > 0 && t.text.length <= max;
};

const actionId = (v: unknown) =>
  v === undefined || (typeof v === 'string' && v.length > 0 && v.length <= 255);

function buttonOk(e: Block): boolean {
  if (!plainText(e.text, 75) || !actionId(e.action_id)) return false;
  return e.value === undefined || (typeof e.value === 'string' && e.value.length <= 2000);
}

function feedbackButtonsOk(e: Block): boolean {
  if (!actionId(e.action_id)) return false;
  return [e.positive_button, e.negative_button].every((b) => {
    const button = b as Block | undefined;
    return (
      button !== undefined &&
      plainText(button.text, 75) &&
      typeof button.value === 'string' &&
      button.value.length > 0 &&
      button.value.length <= 2000
    );
  });
}

/** 'invalid_blocks' when Slack would refuse these blocks, else undefined. */
export function blocksProblem(blocks: unknown, refuseContextActions = false): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks) || blocks.length > 50) return 'invalid_blocks';
  for (const block of blocks as Block[]) {
    const elements = (block.elements as Block[] | undefined) ?? [];
    switch (block.type) {
      case 'markdown':
        break;
      case 'section': {
        const text = block.text as { type?: string; text?: unknown } | undefined;
        if (typeof text?.text !== 'string' || text.text.length < 1 || text.text.length > 3000)
          return 'invalid_blocks';
        break;
      }
      case 'actions':
        if (elements.length < 1 || elements.length > 25) return 'invalid_blocks';
        if (!elements.every((e) => e.type !== 'button' || buttonOk(e))) return 'invalid_blocks';
        break;
      case 'context_actions':
        if (refuseContextActions || elements.length < 1 || elements.length > 5) return 'invalid_blocks';
        for (const e of elements) {
          if (e.type === 'feedback_buttons' ? !feedbackButtonsOk(e) : e.type !== 'icon_button')
            return 'invalid_blocks';
        }
        break;
      default:
        return 'invalid_blocks';
    }
  }
  return undefined;
}

/**
 * The message methods with these rules in front, and the blocks each message shows kept on it (what a
 * person can press): `chat.postMessage` and `chat.update` replace them, `chat.stopStream` adds its own
 * under the streamed text.
 */
export function keepBlocks(methods: Record<string, Method>): Record<string, Method> {
  const wrapped = { ...methods };
  for (const name of ['chat.postMessage', 'chat.update', 'chat.stopStream']) {
    const inner = methods[name];
    if (!inner) continue;
    wrapped[name] = (ctx, p) => {
      const problem = blocksProblem(p.blocks, ctx.refuseContextActions);
      if (problem) return { ok: false, error: problem };
      const res = inner(ctx, p);
      if (!res.ok || p.blocks === undefined) return res;
      const m = ctx.ws.find(String(p.channel), String(name === 'chat.postMessage' ? res.ts : p.ts));
      const blocks = Array.isArray(p.blocks) && p.blocks.length ? (p.blocks as Block[]) : undefined;
      if (m) m.blocks = name === 'chat.stopStream' ? [...(m.blocks ?? []), ...(blocks ?? [])] : blocks;
      return res;
    };
  }
  return wrapped;
}
