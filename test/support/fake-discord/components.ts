/**
 * Discord's rules for message components and modals, as the fake applies them (Discord's component
 * reference): at most 5 action rows of at most 5 buttons; a button has a style, a custom id of 1–100
 * characters (link buttons a url instead) and a label or an emoji. A modal has a custom id, a title of
 * at most 45 characters and 1–5 components: labels (type 18, label ≤ 45) around one text input each,
 * or the older action rows holding a text input; text inputs have a custom id, a style (1 short,
 * 2 paragraph) and max_length ≤ 4000.
 */
import { formError, type Reply } from './rules.ts';
import type { FakeInteraction } from './state.ts';

type Node = Record<string, unknown>;

const bad = (field: string, message: string): Reply => ({
  status: 400,
  body: formError(field, 'COMPONENT_INVALID', message),
});

function customIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id.length < 1 || id.length > 100) return 'custom_id must be 1-100 characters';
  return undefined;
}

export function componentsProblem(components: unknown): Reply | undefined {
  if (components === undefined || components === null) return undefined;
  if (!Array.isArray(components)) return bad('components', 'Must be an array.');
  if (components.length > 5) return bad('components', 'Must be 5 or fewer in length.');
  for (const [r, row] of (components as Node[]).entries()) {
    if (row.type !== 1 || !Array.isArray(row.components))
      return bad(`components.${r}`, 'Must be an action row.');
    const buttons = row.components as Node[];
    if (buttons.length < 1 || buttons.length > 5) return bad(`components.${r}.components`, '1-5 buttons.');
    for (const [b, button] of buttons.entries()) {
      const where = `components.${r}.components.${b}`;
      if (button.type !== 2) continue;
      if (typeof button.style !== 'number' || button.style < 1 || button.style > 6)
        return bad(`${where}.style`, 'Invalid button style.');
      const problem = button.style === 5 ? undefined : customIdProblem(button.custom_id);
      if (problem) return bad(`${where}.custom_id`, problem);
      if (!button.label && !button.emoji) return bad(where, 'A button needs a label or an emoji.');
    }
  }
  return undefined;
}

function textInputProblem(input: Node | undefined, where: string, inLabel: boolean): Reply | undefined {
  if (input?.type !== 4) return bad(where, 'Must be a text input.');
  const problem = customIdProblem(input.custom_id);
  if (problem) return bad(`${where}.custom_id`, problem);
  if (input.style !== 1 && input.style !== 2) return bad(`${where}.style`, 'Invalid text input style.');
  if (typeof input.max_length === 'number' && (input.max_length < 1 || input.max_length > 4000))
    return bad(`${where}.max_length`, 'Must be 1-4000.');
  // Inside a label the label holds the text; the input's own `label` is the deprecated form.
  if (inLabel && input.label !== undefined) return bad(`${where}.label`, 'Not allowed inside a label.');
  if (!inLabel && typeof input.label !== 'string') return bad(`${where}.label`, 'Required.');
  return undefined;
}

export function modalProblem(data: Node): Reply | undefined {
  const idProblem = customIdProblem(data.custom_id);
  if (idProblem) return bad('data.custom_id', idProblem);
  if (typeof data.title !== 'string' || data.title.length < 1 || data.title.length > 45)
    return bad('data.title', 'Must be 1-45 characters.');
  const components = data.components as Node[] | undefined;
  if (!Array.isArray(components) || components.length < 1 || components.length > 5)
    return bad('data.components', 'Must be 1-5 components.');
  for (const [i, c] of components.entries()) {
    const where = `data.components.${i}`;
    if (c.type === 18) {
      if (typeof c.label !== 'string' || c.label.length < 1 || c.label.length > 45)
        return bad(`${where}.label`, 'Must be 1-45 characters.');
      const problem = textInputProblem(c.component as Node | undefined, `${where}.component`, true);
      if (problem) return problem;
    } else if (c.type === 1) {
      const inputs = c.components as Node[] | undefined;
      if (!Array.isArray(inputs) || inputs.length !== 1) return bad(`${where}.components`, 'One text input.');
      const problem = textInputProblem(inputs[0], `${where}.components.0`, false);
      if (problem) return problem;
    } else return bad(where, 'Unsupported modal component.');
  }
  return undefined;
}

/**
 * A modal as an interaction's answer (callback type 9): only to a command or a press, never to a modal
 * submission or an autocomplete; kept on the interaction for the person to fill in. A refusal, if any.
 */
export function openModal(it: FakeInteraction, data: Node): Reply | undefined {
  if (it.type !== 2 && it.type !== 3)
    return { status: 400, body: { message: 'Cannot send a modal here', code: 50035 } };
  const invalid = modalProblem(data);
  if (invalid) return invalid;
  it.modal = data;
  return undefined;
}

/** What a person's submission of this modal sends back: the same structure, each input with its value. */
export function modalSubmission(modal: Node, values: Record<string, string>): Node[] {
  const filled = (input: Node) => ({
    type: 4,
    custom_id: input.custom_id,
    value: values[String(input.custom_id)] ?? '',
  });
  return (modal.components as Node[]).map((c, i) =>
    c.type === 18
      ? { type: 18, id: i + 1, component: filled(c.component as Node) }
      : { type: 1, id: i + 1, components: (c.components as Node[]).map(filled) },
  );
}

/** The 👍 / 👎 row a finished answer's last message shows (what tests expect people to see). */
export function feedbackButtons(model = 'qwen-plus'): unknown[] {
  const button = (vote: string, emoji: string) => ({
    type: 2,
    style: 2,
    emoji: { name: emoji },
    custom_id: `qwenbot:fb:${vote}:${model}`,
  });
  return [{ type: 1, components: [button('up', '👍'), button('down', '👎')] }];
}

/** A bot message still streaming shows the Stop button; a finished one shows none (maybe 👍 / 👎). */
export function showsStop(m: { components: unknown[] } | undefined): boolean {
  return JSON.stringify(m?.components ?? []).includes('qwenbot:stop');
}
