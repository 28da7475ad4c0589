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

/** How long stopping waits for Redis to answer what is still due before the connection is dropped. */
export const REDIS_CLOSE_DEADLINE_MS = 5000;

/**
 * Finishes `work` (the writes still due when the bot stops) and closes the connection, waiting for
 * the replies still due (node-redis's close()), but not for ever: a Redis host gone without a word (no
 * replies, no FIN) answers neither, and a stopping bot would hang until killed. After the deadline the
 * connection is dropped, whatever still waits on it fails (and says so in the log), and the stop ends.
 */
export async function closeRedis(
  client: RedisClient,
  opts: { work?: () => Promise<void>; log?: Logger; deadlineMs?: number } = {},
): Promise<void> {
  const deadlineMs = opts.deadlineMs ?? REDIS_CLOSE_DEADLINE_MS;
  let timer: NodeJS.Timeout | undefined;
  const dropped = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      opts.log?.warn(
        { deadlineMs },
        `redis: no reply within ${deadlineMs / 1000} s while stopping; dropping the connection (writes still due are lost)`,
      );
      if (client.isOpen) client.destroy();
      resolve();
    }, deadlineMs);
  });
  try {
    // Past the deadline the stop goes on without the work: a write still due would open the connection
    // again (Keyv reconnects on its own) and wait out another connect timeout.
    await Promise.race([opts.work?.(), dropped]);
    if (client.isOpen) await Promise.race([client.close().catch(() => undefined), dropped]);
  } finally {
    clearTimeout(timer);
  }
}
