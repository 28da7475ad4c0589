import { createClient } from '@redis/client';

/** Deletes every key under a test run's prefix, so nothing is left on the shared Redis. */
export async function deleteRedisKeys(prefix: string, url: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 }))
      if (keys.length) await client.del(keys);
  } finally {
    await client.close();
  }
}
