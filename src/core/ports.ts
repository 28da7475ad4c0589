/**
 * What the core reaches outside itself, as small interfaces (ports): the model, the store and the
 * clock. The app passes the QwenClient, the configured Store and the system clock; core tests may pass
 * in-memory fakes (test/support/fake-model.ts) where the HTTP simulator adds nothing.
 */
import type { QwenClient } from '../qwen/client.ts';

/** The store port is the Store interface itself (SQLite, Redis, or an in-memory one). */
export type { Store as StorePort } from '../store/index.ts';

/** The model calls the core makes: a streamed chat, and checking a model answers before switching. */
export type ModelPort = Pick<QwenClient, 'streamChat' | 'probe'>;

/** Where the core reads the time (quota days, dedupe windows, message timestamps). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
