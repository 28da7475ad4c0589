import { defaultDeserialize, defaultSerialize } from '@keyv/serialize';

/**
 * Keyv's value encoding (@keyv/serialize), byte for byte, at native JSON's speed for the values that
 * need nothing special. Keyv's own serializer walks every value in JavaScript, string concatenation
 * included, and its parser runs a reviver on every value: together ~9 % of the CPU of a turn on SQLite.
 *
 * Its format is JSON except for strings that start with ':' (stored as '::…', so that ':base64:…' can
 * mean a Buffer). So a value is stringified natively, and only when the result shows a string that
 * starts with ':' in a value's place (or a Buffer) is it made by Keyv's serializer instead; likewise a
 * stored text is parsed natively unless it holds '"::' or '":base64:'. Both checks can only say yes
 * too often (a key that ends in ',' say), which costs the slow path and nothing else.
 */
const COLON_STRING_VALUE = /(?:^|[:,[])":/;
const BUFFER = '"type":"Buffer"';

export function serializeValue(data: unknown): string {
  const text = JSON.stringify(data);
  if (text === undefined || COLON_STRING_VALUE.test(text) || text.includes(BUFFER))
    return defaultSerialize(data);
  return text;
}

export function deserializeValue<T>(text: string): T {
  if (text.includes('"::') || text.includes('":base64:')) return defaultDeserialize(text) as T;
  return JSON.parse(text) as T;
}
