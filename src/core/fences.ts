/**
 * Code fence lines as CommonMark reads them, for everything that tracks fences in model output (the
 * splitter, the Slack converter's passes): one reading, so a line the converter shows as text is never a
 * fence the splitter closes and reopens.
 */
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

export interface FenceLine {
  /** The run of backticks or tildes. */
  marker: string;
  /** What follows it: the info string of an opener (a closer has none). */
  info: string;
}

/**
 * The fence on this line, if it is one. A backtick fence's info string has no backtick: "```js `x`" is a
 * line of inline code, not an opener (CommonMark 4.5).
 */
export function fenceLine(line: string): FenceLine | undefined {
  const m = FENCE.exec(line);
  if (!m) return undefined;
  const marker = m[1] ?? '';
  const info = m[2] ?? '';
  if (marker.startsWith('`') && info.includes('`')) return undefined;
  return { marker, info };
}

/** Whether `line` closes a fence opened with `opener`: the same character, at least as many, nothing after. */
export function closesFence(line: FenceLine | undefined, opener: string): boolean {
  return (
    line !== undefined &&
    line.marker[0] === opener[0] &&
    line.marker.length >= opener.length &&
    line.info.trim() === ''
  );
}
