import { splitMessage } from './split.ts';
import type { FeedbackTag, PostedMessage } from './types.ts';

/** One message of a reply as it stands on the platform. */
export interface Shown {
  message: PostedMessage;
  text: string;
  /** The part of the answer `text` carries ('' for a placeholder or "thinking…"). */
  body: string;
  final: boolean;
  /** The feedback buttons it shows (the answer's last message, finished). */
  feedback?: FeedbackTag | undefined;
}

/** A message of the reply as it would show now, before it is posted or edited. */
export type Part = Omit<Shown, 'message'>;

/** What the post-and-edit messages show of the answer's state. */
export interface ReplyView {
  answer: string;
  /** How much of the answer a native stream already carries (the rest goes by post-and-edit). */
  nativeChars: number;
  ending: string;
  toolLine: string;
  queuedLine: string;
  thinking: boolean;
  reasoning: string;
  placeholder: string;
  thinkingText: string;
}

/** The whole text the reply's post-and-edit messages show now. */
export function visibleText(view: ReplyView): string {
  const body = view.answer.slice(view.nativeChars);
  if (view.ending) return body ? `${body}\n\n${view.ending}` : view.ending;
  if (body) return view.toolLine ? `${body}\n\n${view.toolLine}` : body;
  if (view.nativeChars > 0) return view.toolLine;
  if (view.toolLine) return view.toolLine;
  if (view.queuedLine) return view.queuedLine;
  if (!view.thinking) return view.placeholder;
  if (!view.reasoning) return view.thinkingText;
  const tail = view.reasoning.slice(-300).replace(/\s+/g, ' ').trim();
  return `${view.thinkingText}\n> …${tail}`;
}

/** How message `i` of the visible text is rendered. */
export interface PartOptions {
  maxChars: number;
  /** The placeholder and "thinking…" are no part of the answer: false while only they show. */
  carriesAnswer: boolean;
  /** A final flush, or the answer has finished: every message gets its final edit. */
  final: boolean;
  feedback: FeedbackTag | undefined;
}

/** Message `i` of `full`; undefined when there is none. */
export function renderPart(full: string, i: number, opts: PartOptions): Part | undefined {
  const parts = splitMessage(full || ' ', opts.maxChars);
  const part = parts[i];
  if (!part) return undefined;
  // A part with text after it is complete: its message gets its final edit now.
  const partFinal = opts.final || i < parts.length - 1;
  const body = opts.carriesAnswer ? part.body : '';
  const feedback = opts.final && i === parts.length - 1 ? opts.feedback : undefined;
  return { text: part.text, body, final: partFinal, feedback };
}

/** Whether the message needs an edit to show `part`. */
export function changed(current: Shown, part: Part | undefined): boolean {
  if (part === undefined) return false;
  const buttons = part.feedback !== undefined && current.feedback === undefined;
  return current.text !== part.text || (part.final && !current.final) || buttons;
}
