import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import type { RedisOutage } from '../redis/redis-outage';
import { MemoryThrottlerStorage } from './memory-throttler-storage';

/**
 * The global throttler's counters in Redis (shared by every instance), counted in this
 * process while Redis is unreachable: the throttler keeps working with per-process
 * precision instead of failing every request. Back on Redis by itself when it returns.
 */
export class FallbackThrottlerStorage implements ThrottlerStorage {
  private readonly local = new MemoryThrottlerStorage();

  constructor(
    private readonly primary: ThrottlerStorage,
    private readonly outage: RedisOutage,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (!this.outage.isDown) {
      try {
        return await this.primary.increment(key, ttl, limit, blockDuration, throttlerName);
      } catch (error) {
        this.outage.failed(error);
      }
    }
    return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  onApplicationShutdown(): void {
    this.local.onApplicationShutdown();
  }
}
