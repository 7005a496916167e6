import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix unique to this run, and a cleanup that deletes every key under it. */
export function givenRedisPrefix(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `test-${process.pid}-${randomUUID().slice(0, 8)}:`;
  return {
    prefix,
    cleanup: async () => {
      const redis = new Redis(REDIS_URL);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
