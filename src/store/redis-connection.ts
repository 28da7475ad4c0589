// Loaded by openRedis only: a single instance on SQLite never needs the Redis client (~8 MB of RSS).
import type { createClient } from '@redis/client';
import type { Logger } from '../log.ts';
import { redactUrl, StoreError } from './index.ts';

export type RedisClient = ReturnType<typeof createClient>;

const CONNECT_TIMEOUT_MS = 5000;

/**
 * The one Redis connection of an instance: the store (Keyv), the coordinator and the rate limiters
 * all send their commands through it. Named `qwenbot:<instance>` (CLIENT SETNAME, also after a
 * reconnect) so an operator can tell the instances apart in CLIENT LIST.
 */
export async function openRedis(url: string, opts: { instance: string; log?: Logger }): Promise<RedisClient> {
  const { createClient: createRedisClient } = await import('@redis/client');
  const client = createRedisClient({
    url,
    name: redisClientName(opts.instance),
    // Keep reconnecting during an outage, but fail commands at once meanwhile: with the default offline
    // queue a write during an outage waited for Redis to come back, holding the conversation (and the
    // user's next message) for as long as it was down.
    disableOfflineQueue: true,
    socket: {
      reconnectStrategy: (retries) => Math.min(retries * 100, 2000),
      connectTimeout: CONNECT_TIMEOUT_MS,
    },
  }) as unknown as RedisClient;
  client.on('error', (err: unknown) => opts.log?.warn({ err }, 'redis connection error'));
  let timer: NodeJS.Timeout | undefined;
  try {
    // connect() keeps retrying on its own (the reconnect strategy); start-up gives up after 5 s.
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    client.destroy();
    throw new StoreError(
      `QWENBOT_STORE: store ${redactUrl(url)} is not reachable: no connection within 5 s; check that Redis runs there and the host, port, password (and rediss:// for TLS)`,
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** CLIENT SETNAME takes no spaces or newlines. */
export function redisClientName(instance: string): string {
  return `qwenbot:${instance.replace(/[^\w.:-]/g, '_')}`;
}
