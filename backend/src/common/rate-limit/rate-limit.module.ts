import { ExecutionContext, Global, Module } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerModule } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';
import { RedisOutage } from '../redis/redis-outage';
import { FallbackThrottlerStorage } from './fallback-throttler-storage';
import { MemoryThrottlerStorage } from './memory-throttler-storage';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { THROTTLER_OPT_IN } from './rate-limit.decorator';
import { RateLimitingService } from './rate-limiting.service';
import { UserThrottlerGuard } from './user-throttler.guard';

/** `auth` and `upload` apply only to routes that opt in with @UseThrottlers(). */
const optedIn = (name: string) => (ctx: ExecutionContext) => {
  const names = [ctx.getHandler(), ctx.getClass()].flatMap(
    (target) => (Reflect.getMetadata(THROTTLER_OPT_IN, target) as string[] | undefined) ?? [],
  );
  return !names.includes(name);
};

@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG, REDIS, RedisOutage],
      useFactory: (config: AppConfig, redis: Redis | null, outage: RedisOutage) => {
        const { THROTTLE_DEFAULT, THROTTLE_AUTH, THROTTLE_UPLOAD } = config.rateLimits;
        return {
          // With Redis the counters are shared by every instance (atomic Lua increments), per process while it is
          // down or when there is no Redis (the same fixed windows, O(1) per request).
          storage: redis
            ? new FallbackThrottlerStorage(new ThrottlerStorageRedisService(redis), outage)
            : new MemoryThrottlerStorage(),
          // UserThrottlerGuard answers refusals in the service's one 429 shape.
          setHeaders: false,
          throttlers: [
            { name: 'default', limit: THROTTLE_DEFAULT.limit, ttl: THROTTLE_DEFAULT.windowMs },
            {
              name: 'auth',
              limit: THROTTLE_AUTH.limit,
              ttl: THROTTLE_AUTH.windowMs,
              skipIf: optedIn('auth'),
            },
            {
              name: 'upload',
              limit: THROTTLE_UPLOAD.limit,
              ttl: THROTTLE_UPLOAD.windowMs,
              skipIf: optedIn('upload'),
            },
          ],
        };
      },
    }),
  ],
  providers: [RateLimitingService, UserThrottlerGuard],
  exports: [RateLimitingService, UserThrottlerGuard],
})
export class RateLimitModule {}
