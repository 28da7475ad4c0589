import { expect } from 'vitest';
import { ConfigError } from '../../src/config/load.ts';

/** The message of the ConfigError `fn` throws (a test fails when it throws anything else, or nothing). */
export function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}
