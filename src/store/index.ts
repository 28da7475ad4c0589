import { mkdirSync } from 'node:fs';
import path from 'node:path';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import type { Logger } from '../log.ts';

/** A store operation failed: the caller reports it; nothing is dropped silently. */
export class StoreError extends Error {
  readonly code = 'store';
}

export type Store = Keyv;

export interface StoreOptions {
  /** Namespace for every key (several bots can share one Redis). */
  namespace?: string;
  log?: Logger;
}

/**
 * Turns a store URL into a Keyv instance: `sqlite://relative/or/absolute.sqlite` (the embedded default;
 * creates the folder, WAL journal), `sqlite://:memory:`, or `redis://` / `rediss://` for several instances.
 */
export async function createStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const namespace = options.namespace ?? 'qwenbot';
  let adapter: ConstructorParameters<typeof Keyv>[0];
  if (url.startsWith('sqlite://')) {
    const file = url.slice('sqlite://'.length);
    if (!file)
      throw new StoreError('QWENBOT_STORE: sqlite:// needs a file path, e.g. sqlite://data/qwenbot.sqlite');
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const sqlite = new KeyvSqlite({ uri: `sqlite://${file}`, table: 'qwenbot', busyTimeout: 5000 });
    // WAL lets readers (another CLI run, a backup) proceed while the bot writes.
    // NORMAL sync is safe in WAL mode against a process crash (only an OS crash can lose the last
    // commits) and spares an fsync per write, which is most of the cost of a turn on SQLite.
    if (file !== ':memory:') {
      await sqlite.query('PRAGMA journal_mode=WAL').catch(() => undefined);
      await sqlite.query('PRAGMA synchronous=NORMAL').catch(() => undefined);
    }
    adapter = sqlite;
  } else if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    adapter = new KeyvRedis(url, { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: 5000 });
  } else {
    throw new StoreError(
      `QWENBOT_STORE: unsupported store URL "${redactUrl(url)}"; use sqlite://path or redis://host:port`,
    );
  }
  const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true, useKeyPrefix: false });
  keyv.on('error', (err: unknown) => options.log?.error({ err, store: redactUrl(url) }, 'store error'));
  try {
    await keyv.get('__ping__');
  } catch (err) {
    throw new StoreError(`store ${redactUrl(url)} is not reachable: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return keyv;
}

/** Hides a password in a store URL before it is logged or shown. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):([^@]*)@/, '//$1:***@');
}
