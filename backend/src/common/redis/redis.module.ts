import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppLogger } from '../logger/app-logger';
import { FAIL_FAST_OPTIONS, RedisOutage } from './redis-outage';

/** The shared Redis connection, or null when REDIS_URL is not set (the embedded default). */
export const REDIS = Symbol('REDIS');

export function createRedis(config: AppConfig, outage: RedisOutage): Redis | null {
  if (!config.REDIS_URL) return null;
  // Connects in the background: a process starts (degraded) while Redis is down and picks it up later.
  return outage.watch(
    new Redis(config.REDIS_URL, { keyPrefix: config.REDIS_KEY_PREFIX, ...FAIL_FAST_OPTIONS }),
  );
}

@Global()
@Module({
  providers: [
    {
      provide: RedisOutage,
      inject: [AppLogger],
      useFactory: (logger: AppLogger) => new RedisOutage(logger.forContext('Redis')),
    },
    { provide: REDIS, inject: [APP_CONFIG, RedisOutage], useFactory: createRedis },
  ],
  exports: [REDIS, RedisOutage],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}
