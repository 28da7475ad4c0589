import { createHash } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** OpenAI (and DashScope) function names. */
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_NAME = 64;

/**
 * The function name a server's tool is offered under: `server__tool`. Server names have no `_`, so the
 * first `__` always separates them; characters functions cannot carry become `_`, and a name too long
 * (or taken) ends in a short hash of the original, so two tools never share one name.
 */
export function functionName(server: string, tool: string, taken: Set<string>): string {
  const plain = `${server}__${tool.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
  if (FUNCTION_NAME.test(plain) && !taken.has(plain)) return plain;
  const hash = createHash('sha256').update(`${server}\0${tool}`).digest('hex').slice(0, 8);
  return `${plain.slice(0, MAX_NAME - hash.length - 1)}_${hash}`;
}

/** The text a tool result gives the model: its text parts, with other parts named rather than inlined. */
export function resultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const item of result.content ?? []) {
    if (item.type === 'text') parts.push(item.text);
    else if (item.type === 'image' || item.type === 'audio')
      parts.push(`[${item.type} ${item.mimeType} not shown]`);
    else if (item.type === 'resource')
      parts.push('text' in item.resource ? item.resource.text : `[resource ${item.resource.uri}]`);
    else if (item.type === 'resource_link')
      parts.push(`[link ${item.uri}${item.name ? ` ${item.name}` : ''}]`);
  }
  if (!parts.length && result.structuredContent !== undefined)
    parts.push(JSON.stringify(result.structuredContent));
  return parts.join('\n');
}

/** Cuts `text` to `max` characters, the marker included, saying how much the model does not see. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = (shown: number) => `\n…[cut: ${shown} of ${text.length} characters shown]`;
  const shown = Math.max(0, max - marker(max).length);
  return text.slice(0, shown) + marker(shown);
}

/** A failed call, as the tool message the model reads. */
export function errorResult(message: string): string {
  return JSON.stringify({ error: message });
}
