import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { Clock } from '../../modules/shared/clock';
import { PolicyRateLimiter } from '../../modules/shared/rate-limit/policy-rate-limiter';
import type { RateDecision } from '../../modules/shared/ports';
import { prismaEngineDatabase } from '../adapters/prisma-engine-database';
import { AppConfig, RatePolicyName } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { PrismaService } from '../prisma/prisma.service';
import { REDIS } from '../redis/redis.module';
import { RedisOutage } from '../redis/redis-outage';

/**
 * The standalone service's named policies (`RATE_LIMIT_<NAME>`), charged by the modules'
 * own limiter (PolicyRateLimiter: all or nothing, in the database shared by every
 * process, or in Redis while it is up, with the outage tracker deciding).
 */
@Injectable()
export class RateLimitingService {
  private readonly limiter: PolicyRateLimiter;

  constructor(
    prisma: PrismaService,
    clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(REDIS) redis: Redis | null,
    outage: RedisOutage,
  ) {
    this.limiter = new PolicyRateLimiter({
      database: prismaEngineDatabase(prisma),
      clock,
      policies: config.rateLimits,
      redis,
      redisDown: () => outage.isDown,
      onRedisFailure: (error) => outage.failed(error),
    });
  }

  /** Charges `identifier` for each policy, all or nothing. */
  consume(identifier: string, charges: { policy: RatePolicyName; cost: number }[]): Promise<RateDecision> {
    return this.limiter.consume(identifier, charges);
  }
}
