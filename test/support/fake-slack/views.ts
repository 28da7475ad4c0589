/**
 * `views.open` as the fake answers it (Slack's method and modal references): the trigger_id must come
 * from an interaction less than 3 seconds old and is used once (`expired_trigger_id`,
 * `invalid_trigger_id`); the view is a modal with a plain_text title of at most 24 characters, a
 * submit label (≤ 24) when it has inputs, a callback_id ≤ 255, private_metadata ≤ 3,000 and at most
 * 100 blocks; inputs have a plain_text label and an element with an action_id. Opened views are kept
 * in the workspace, for the person to fill in (interactions.ts).
 */
import type { MethodContext, Params, Result } from './methods.ts';

export const TRIGGER_TTL_MS = 3000;

type Node = Record<string, unknown>;

const plainText = (v: unknown, max: number) => {
  const t = v as { type?: string; text?: unknown } | undefined;
  return t?.type === 'plain_text' && typeof t.text === 'string' && t.text.length > 0 && t.text.length <= max;
};

function viewProblem(view: Node): string | undefined {
  if (view.type !== 'modal') return 'invalid_arguments';
  if (!plainText(view.title, 24)) return 'invalid_arguments';
  const blocks = view.blocks as Node[] | undefined;
  if (!Array.isArray(blocks) || blocks.length > 100) return 'invalid_arguments';
  const inputs = blocks.filter((b) => b.type === 'input');
  if (inputs.length && !plainText(view.submit, 24)) return 'invalid_arguments';
  if (
    view.callback_id !== undefined &&
    (typeof view.callback_id !== 'string' || view.callback_id.length > 255)
  )
    return 'invalid_arguments';
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000)
    return 'invalid_arguments';
  for (const input of inputs) {
    const element = input.element as Node | undefined;
    if (!plainText(input.label, 2000) || typeof element?.action_id !== 'string') return 'invalid_arguments';
    if (
      element.type === 'plain_text_input' &&
      typeof element.max_length === 'number' &&
      element.max_length > 3000
    )
      return 'invalid_arguments';
  }
  return undefined;
}

export const VIEW_METHODS: Record<string, (ctx: MethodContext, p: Params) => Result> = {
  'views.open': (ctx, p) => {
    const trigger = typeof p.trigger_id === 'string' ? p.trigger_id : '';
    const issued = ctx.ws.triggers.get(trigger);
    if (!issued) return { ok: false, error: 'invalid_trigger_id' };
    ctx.ws.triggers.delete(trigger);
    if (ctx.now() - issued.at > TRIGGER_TTL_MS) return { ok: false, error: 'expired_trigger_id' };
    const view = (typeof p.view === 'object' && p.view !== null ? p.view : {}) as Node;
    const problem = viewProblem(view);
    if (problem) return { ok: false, error: problem };
    const id = `V${ctx.ws.nextTs().replace('.', '')}`;
    ctx.ws.views.push({ id, user: issued.user, view, at: ctx.now() });
    return { ok: true, view: { id, ...view } };
  },
};
