/**
 * Splits a Markdown answer into messages of at most `maxChars` characters without breaking code
 * fences: a part that ends inside a fence closes it, and the next part reopens it with the same info
 * string. Prefers to cut at a line end, then at a space.
 */
import { closesFence, fenceLine } from './fences.ts';

export interface MessagePart {
  /** What to send: reopened fence + body + closing fence. */
  text: string;
  /** The slice of the original text this part carries; the bodies concatenate to the input. */
  body: string;
}

/** Room kept for a closing fence ("\n" + up to 7 fence characters). */
const CLOSE_RESERVE = 8;

interface FenceState {
  marker: string;
  /** The opening line, reused to reopen the fence in the next part. */
  opener: string;
}

export function splitMessage(text: string, maxChars: number): MessagePart[] {
  if (maxChars < 64) throw new RangeError('maxChars must be at least 64');
  const parts: MessagePart[] = [];
  let pos = 0;
  let open: FenceState | null = null;
  for (;;) {
    const prefix: string = open ? `${open.opener}\n` : '';
    const rest = text.slice(pos);
    if (prefix.length + rest.length <= maxChars) {
      parts.push({ text: prefix + rest, body: rest });
      return parts;
    }
    const budget = Math.max(1, maxChars - prefix.length - CLOSE_RESERVE);
    let cut = chooseCut(rest, budget);
    let end = fenceStateAfter(rest.slice(0, cut), open);
    // Do not end a part on a fence opener: that would show an empty code block.
    if (end && end !== open) {
      const lineStart = rest.lastIndexOf('\n', cut - 2) + 1;
      if (lineStart > 0 && fenceLine(rest.slice(lineStart, cut).replace(/\n$/, ''))) {
        cut = lineStart;
        end = fenceStateAfter(rest.slice(0, cut), open);
      }
    }
    const body = rest.slice(0, cut);
    const close = end ? `${body.endsWith('\n') ? '' : '\n'}${end.marker}` : '';
    parts.push({ text: prefix + body + close, body });
    pos += cut;
    open = end;
  }
}

function chooseCut(rest: string, budget: number): number {
  const window = rest.slice(0, budget);
  const minCut = Math.floor(budget / 2);
  const newline = window.lastIndexOf('\n');
  if (newline >= minCut) return newline + 1;
  const space = Math.max(window.lastIndexOf(' '), window.lastIndexOf('\t'));
  if (space >= minCut) return space + 1;
  // Hard cut, but never between the halves of a surrogate pair.
  const code = rest.charCodeAt(budget - 1);
  return code >= 0xd800 && code <= 0xdbff ? budget - 1 : budget;
}

/** Which fence (if any) is open after `chunk`, given the state before it. */
export function fenceStateAfter(chunk: string, start: FenceState | null): FenceState | null {
  let open = start;
  for (const line of chunk.split('\n')) {
    const fence = fenceLine(line);
    if (!fence) continue;
    if (!open) {
      const opener = line.trimStart();
      open = { marker: fence.marker, opener: opener.length <= 40 ? opener : fence.marker };
    } else if (closesFence(fence, open.marker)) {
      open = null;
    }
  }
  return open;
}

/** True when every fence opened in `text` is closed again. */
export function fencesBalanced(text: string): boolean {
  return fenceStateAfter(text, null) === null;
}
