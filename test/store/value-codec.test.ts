/**
 * The store's value encoding is Keyv's own (@keyv/serialize) byte for byte, so what earlier versions
 * stored reads back the same and what this one stores reads back in them; only faster.
 */
import { Buffer } from 'node:buffer';
import { defaultDeserialize, defaultSerialize } from '@keyv/serialize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.ts';
import { deserializeValue, serializeValue } from '../../src/store/value-codec.ts';

/** Strings as the bot stores them, and the ones Keyv's format treats specially. */
const text = fc.oneof(
  fc.string(),
  fc.string().map((s) => `:${s}`),
  fc.string().map((s) => `::${s}`),
  fc.string().map((s) => `:base64:${s}`),
  fc.constantFrom('a,', '":', ',":', '[":', 'x"::y', '{"type":"Buffer"}'),
);
const leaf = fc.oneof(
  text,
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
);
const value = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('the store’s value encoding', () => {
  it('writes exactly what Keyv’s serializer writes', () => {
    fc.assert(
      fc.property(value, (v) => {
        const record = { value: v, expires: 1_800_000_000_000 };
        expect(serializeValue(record)).toBe(defaultSerialize(record));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads what Keyv’s serializer wrote exactly as Keyv’s parser does', () => {
    fc.assert(
      fc.property(value, (v) => {
        const stored = defaultSerialize({ value: v });
        expect(deserializeValue(stored)).toEqual(defaultDeserialize(stored));
      }),
      { numRuns: 2000 },
    );
  });

  it('is the one the store uses: strings starting with ":" and Buffers come back as they went in', async () => {
    const store = await createStore('sqlite://:memory:');
    expect(store.serialize).toBe(serializeValue);
    expect(store.deserialize).toBe(deserializeValue);
    const kept = { note: ':colon first', nested: [':a', '::b'], bytes: Buffer.from('hi') };
    await store.set('k', kept);
    expect(await store.get('k')).toEqual(kept);
    await store.disconnect();
  });
});
