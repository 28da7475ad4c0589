import { mkdirSync } from 'node:fs';
import path from 'node:path';
// Only the configured store's client library is loaded (createStore imports it): the Redis client alone
// costs ~8 MB of RSS in a bot on SQLite.
import type KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import type { Logger } from '../log.ts';
import type { RedisClient } from './redis-connection.ts';
import { batchSqliteWrites } from './sqlite-batch.ts';
import type { WalCheckpointer } from './sqlite-checkpoint.ts';
import { lockStoreFile, StoreLockedError } from './sqlite-lock.ts';
import { deserializeValue, serializeValue } from './value-codec.ts';

/** A store operation failed: the caller reports it; nothing is dropped silently. */
export class StoreError extends Error {
  readonly code = 'store';
}

/** Runs a store call; a failure becomes a StoreError naming what was being done. */
export async function storeCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`${what} failed: ${(err as Error).message}`, { cause: err });
  }
}

export type Store = Keyv;

export interface StoreOptions {
  /** Namespace for every key (several bots can share one Redis). */
  namespace?: string;
  log?: Logger;
  /**
   * Redis only: the instance's connected client (redis-connection.ts), shared with the coordinator so an
   * instance holds one connection for both. Closing the store closes it.
   */
  redis?: RedisClient;
}

/**
 * Turns a store URL into a Keyv instance: `sqlite://relative/or/absolute.sqlite` (the embedded default;
 * creates the folder, WAL journal), `sqlite://:memory:`, or `redis://` / `rediss://` for several instances.
 */
export async function createStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const namespace = options.namespace ?? 'qwenbot';
  let adapter: ConstructorParameters<typeof Keyv>[0];
  let unlock = () => {};
  let sqliteAdapter: KeyvSqlite | undefined;
  let checkpointer: WalCheckpointer | undefined;
  if (url.startsWith('sqlite://')) {
    const file = url.slice('sqlite://'.length);
    if (!file)
      throw new StoreError('QWENBOT_STORE: sqlite:// needs a file path, e.g. sqlite://data/qwenbot.sqlite');
    if (file !== ':memory:') {
      const folder = path.dirname(path.resolve(file));
      try {
        mkdirSync(folder, { recursive: true });
      } catch (err) {
        throw new StoreError(
          `QWENBOT_STORE: cannot create the folder ${folder} for ${url}: ${(err as Error).message}; choose a writable path`,
          { cause: err },
        );
      }
      unlock = lockFile(file);
    }
    const { default: KeyvSqliteAdapter } = await import('@keyv/sqlite');
    const sqlite = new KeyvSqliteAdapter({ uri: `sqlite://${file}`, table: SQLITE_TABLE, busyTimeout: 5000 });
    const { keepSqliteStatements } = await import('./sqlite-statements.ts');
    await keepSqliteStatements(sqlite, file, 5000).catch((err: unknown) => {
      unlock();
      throw new StoreError(`QWENBOT_STORE: cannot open ${url}: ${(err as Error).message}`, { cause: err });
    });
    // Deleted rows are overwritten with zeros, not just unlinked: "/forget" reaches the disk too.
    await sqlite.query('PRAGMA secure_delete=ON').catch((err: unknown) => {
      unlock();
      throw new StoreError(`QWENBOT_STORE: cannot open ${url}: ${(err as Error).message}`, { cause: err });
    });
    // WAL lets readers (another CLI run, a backup) proceed while the bot writes.
    // NORMAL sync is safe in WAL mode against a process crash (only an OS crash can lose the last
    // commits) and spares an fsync per write, which is most of the cost of a turn on SQLite.
    if (file !== ':memory:') {
      await sqlite.query('PRAGMA journal_mode=WAL').catch(() => undefined);
      await sqlite.query('PRAGMA synchronous=NORMAL').catch(() => undefined);
      const { startWalCheckpointer } = await import('./sqlite-checkpoint.ts');
      checkpointer = await startWalCheckpointer(sqlite, file).catch((err: unknown) => {
        options.log?.warn(
          { err },
          'store: no second SQLite connection for checkpoints; SQLite checkpoints inline',
        );
        return undefined;
      });
    }
    batchSqliteWrites(sqlite);
    adapter = sqlite;
    sqliteAdapter = sqlite;
  } else if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    // Like the coordinator: keep reconnecting during an outage, but fail commands at once meanwhile.
    // With the client's default offline queue, a write during an outage waited for Redis to come
    // back, holding the conversation's queue (and the user's next message) for as long as it was down.
    const { default: KeyvRedis } = await import('@keyv/redis');
    const keyvOptions = { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: 5000 };
    adapter = options.redis
      ? new KeyvRedis(options.redis, keyvOptions)
      : new KeyvRedis(
          {
            url,
            disableOfflineQueue: true,
            socket: {
              reconnectStrategy: (retries: number) => Math.min(retries * 100, 2000),
              connectTimeout: 5000,
            },
          },
          keyvOptions,
        );
  } else {
    throw new StoreError(
      `QWENBOT_STORE: unsupported store URL "${redactUrl(url)}"; use sqlite://path or redis://host:port`,
    );
  }
  const keyv = new Keyv({
    store: adapter,
    namespace,
    throwOnErrors: true,
    useKeyPrefix: false,
    serialize: serializeValue,
    deserialize: deserializeValue,
  });
  const disconnect = keyv.disconnect.bind(keyv);
  keyv.disconnect = async () => {
    try {
      await checkpointer?.close();
      await disconnect();
    } finally {
      unlock();
    }
  };
  keyv.on('error', (err: unknown) => options.log?.error({ err, store: redactUrl(url) }, 'store error'));
  try {
    await keyv.get('__ping__');
  } catch (err) {
    await checkpointer?.close().catch(() => undefined);
    unlock();
    // The Redis client's own message only says that it "failed to connect" and names its option.
    const why = url.startsWith('sqlite://')
      ? (err as Error).message
      : 'no connection within 5 s; check that Redis runs there and the host, port, password (and rediss:// for TLS)';
    throw new StoreError(`QWENBOT_STORE: store ${redactUrl(url)} is not reachable: ${why}`, { cause: err });
  }
  if (sqliteAdapter) sqliteStores.set(keyv, sqliteAdapter);
  if (checkpointer) checkpointers.set(keyv, checkpointer);
  return keyv;
}

/** One process per SQLite file (see sqlite-lock.ts); the refusal is a StoreError main prints as one line. */
function lockFile(file: string): () => void {
  try {
    return lockStoreFile(file);
  } catch (err) {
    if (err instanceof StoreLockedError) throw new StoreError(err.message, { cause: err });
    throw new StoreError(`QWENBOT_STORE: could not lock ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export const SQLITE_TABLE = 'qwenbot';
const sqliteStores = new WeakMap<Store, KeyvSqlite>();
const checkpointers = new WeakMap<Store, WalCheckpointer>();

/** The SQLite adapter behind a store made by `createStore`, for the few things Keyv cannot say. */
export function sqliteOf(store: Store): KeyvSqlite | undefined {
  return sqliteStores.get(store);
}

/** The WAL checkpointer of a SQLite file store made by `createStore` (none for `:memory:` or Redis). */
export function walCheckpointerOf(store: Store): WalCheckpointer | undefined {
  return checkpointers.get(store);
}

/**
 * Closes a store. On SQLite the write-ahead log is checkpointed into the main file and truncated
 * first, so after a clean stop no deleted text lingers in an old WAL frame (`secure_delete` has
 * already zeroed it in the main file).
 */
export async function closeStore(store: Store, log?: Logger): Promise<void> {
  const sqlite = sqliteOf(store);
  if (sqlite) {
    sqliteStores.delete(store);
    // Its connection goes first: the truncating checkpoint below needs no other checkpoint running.
    await checkpointers.get(store)?.close();
    const [result] = (await sqlite.query('PRAGMA wal_checkpoint(TRUNCATE)')) as Array<{ busy?: number }>;
    // Another process reading the file can hold the log open; SQLite checkpoints it when that one closes.
    if (result?.busy) log?.warn('store: the write-ahead log is in use by another process; not truncated');
  }
  await store.disconnect();
}

/** Hides a password in a store URL before it is logged or shown. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):([^@]*)@/, '//$1:***@');
}
