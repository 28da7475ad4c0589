import type { RedisCoordinator } from '../../src/store/coordination.ts';
import type { Store } from '../../src/store/index.ts';

/** What went between the process and the store since the last reset. */
export interface StoreTraffic {
  /** Trips to the store: SQL queries on SQLite; adapter calls on Redis (one command or MULTI each). */
  roundTrips: number;
  /** UTF-8 bytes of the keys and values written (set / setMany). */
  bytesWritten: number;
}

interface Adapter {
  opts?: { dialect?: string };
  query?: (...args: unknown[]) => Promise<unknown>;
  [method: string]: unknown;
}

const ADAPTER_CALLS = ['get', 'getMany', 'set', 'setMany', 'delete', 'deleteMany', 'has', 'hasMany', 'clear'];

/**
 * Counts a Keyv store's traffic by wrapping its adapter in place (so Keyv's own fallbacks, expiry
 * deletes and the adapter's internal queries are all seen). Returns the live counters and a reset.
 * Traffic for keys containing `ignore` (e.g. `inflight:`, whose writes follow the edits' timing) is
 * left out.
 */
export function watchStoreTraffic(
  store: Store,
  opts: { ignore?: string } = {},
): { traffic: StoreTraffic; reset: () => void } {
  const adapter = store.store as Adapter;
  const traffic: StoreTraffic = { roundTrips: 0, bytesWritten: 0 };
  const sqlite = adapter.opts?.dialect === 'sqlite' && typeof adapter.query === 'function';
  const wrap = (name: string, before: (args: unknown[]) => void) => {
    const original = adapter[name];
    if (typeof original !== 'function') return;
    adapter[name] = function (this: unknown, ...args: unknown[]) {
      before(args);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  };
  const ignored = (key: unknown) => opts.ignore !== undefined && String(key).includes(opts.ignore);
  // SQLite's deleteMany runs getMany first: counting queries sees both trips.
  // Statements alone go through `query`; joined ones (sqlite-batch.ts) through `queryNow`.
  const countQuery = (args: unknown[]) => (args.slice(1).some(ignored) ? undefined : traffic.roundTrips++);
  if (sqlite) {
    wrap('query', countQuery);
    wrap('queryNow', countQuery);
  }
  for (const name of ADAPTER_CALLS)
    wrap(name, (args) => {
      const first = args[0];
      if (name === 'setMany') {
        const entries = (first as Array<{ key: string; value: unknown }>).filter((e) => !ignored(e.key));
        if (!sqlite && entries.length) traffic.roundTrips++;
        for (const e of entries) traffic.bytesWritten += bytes(e.key) + bytes(e.value);
        return;
      }
      if (Array.isArray(first) ? first.every(ignored) : ignored(first)) return;
      if (!sqlite) traffic.roundTrips++;
      if (name === 'set') traffic.bytesWritten += bytes(args[0]) + bytes(args[1]);
    });
  return {
    traffic,
    reset: () => {
      traffic.roundTrips = 0;
      traffic.bytesWritten = 0;
    },
  };
}

function bytes(value: unknown): number {
  return Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value ?? ''));
}

/**
 * Counts every command the coordinator's Redis client sends: one per command (or script), one per
 * MULTI or pipeline. Commands naming `ignore` in their arguments (e.g. `:turn:`, the conversation's
 * cross-instance line) are left out; with `only`, only commands naming it are counted (the store and
 * the coordinator share one client: `:coord:` picks the coordinator's keys out).
 */
export function watchRedisCommands(
  coordinator: RedisCoordinator,
  opts: { ignore?: string; only?: string } = {},
): { count: () => number; reset: () => void } {
  const client = coordinator.client as unknown as Record<string, unknown>;
  // node-redis runs single commands (and scripts) through its inner `_self`, MULTI and pipelines
  // through functions bound on the client itself.
  const inner = (client._self ?? client) as Record<string, unknown>;
  let commands = 0;
  const targets: Array<[Record<string, unknown>, string]> = [
    [inner, 'sendCommand'],
    [client, '_executeMulti'],
    [client, '_executePipeline'],
  ];
  for (const [target, name] of targets) {
    const original = target[name];
    // A silent miss would under-count; better no figure than a wrong one.
    if (typeof original !== 'function') throw new Error(`cannot count Redis commands: no client.${name}`);
    target[name] = function (this: unknown, ...args: unknown[]) {
      const text = JSON.stringify(args[0] ?? '');
      const counted = opts.only === undefined || text.includes(opts.only);
      if (counted && (opts.ignore === undefined || !text.includes(opts.ignore))) commands++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return {
    count: () => commands,
    reset: () => {
      commands = 0;
    },
  };
}
