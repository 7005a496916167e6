import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Clock } from '../../modules/shared/clock';
import { AppConfig, RatePolicyName } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppLogger } from '../logger/app-logger';
import { PrismaService } from '../prisma/prisma.service';
import { REDIS } from '../redis/redis.module';
import { RedisOutage } from '../redis/redis-outage';
import type Redis from 'ioredis';
import { RedisWindowStore } from './redis-window-store';
import { PolicyState } from '../../modules/shared/rate-limit-headers';
import { RateLimitRepository, WindowHit } from './rate-limit.repository';

export interface RateLimitDecision {
  allowed: boolean;
  states: PolicyState[];
  violated: PolicyState[];
}

class Refused extends Error {}

interface ChargeOutcome {
  counts: Map<string, number>;
  refused: WindowHit[];
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Named fixed-window policies stored in the database, so every process sharing the
 * database shares the limits. Policies come from config (`RATE_LIMIT_<NAME>`).
 */
@Injectable()
export class RateLimitingService implements OnModuleInit, OnModuleDestroy {
  private sweeper?: NodeJS.Timeout;
  private readonly logger: AppLogger;
  private readonly redisStore: RedisWindowStore | null;

  constructor(
    private readonly prisma: PrismaService,
    private readonly repository: RateLimitRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    logger: AppLogger,
    @Inject(REDIS) redis: Redis | null,
    private readonly outage: RedisOutage,
  ) {
    this.logger = logger.forContext(RateLimitingService.name);
    this.redisStore = redis ? new RedisWindowStore(redis) : null;
  }

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /**
   * Charges `identifier` for each policy, all or nothing: when any policy would be
   * exceeded, the transaction rolls back and no counter moves.
   */
  async consume(
    identifier: string,
    charges: { policy: RatePolicyName; cost: number }[],
  ): Promise<RateLimitDecision> {
    const now = this.clock.now();
    const hits = charges.map(({ policy, cost }) => this.hitFor(identifier, policy, cost, now));
    const oversized = hits.filter((h) => h.cost > h.limit);
    const outcome =
      oversized.length > 0
        ? { counts: await this.currentCounts(identifier, hits), refused: oversized }
        : await this.charge(identifier, hits, now);
    const states = hits.map((hit) => this.stateOf(hit, outcome.counts.get(hit.policy) ?? 0, now));
    const violated = states.filter((s) => outcome.refused.some((r) => r.policy === s.policy));
    return { allowed: outcome.refused.length === 0, states, violated };
  }

  /**
   * Redis when configured and reachable; the database otherwise. The database windows are
   * shared by every process on the database too, so an outage of Redis costs only the
   * counts already in Redis for the current window (they start again from the database's).
   */
  private async charge(identifier: string, hits: WindowHit[], now: number): Promise<ChargeOutcome> {
    if (this.redisStore && !this.outage.isDown) {
      try {
        return await this.chargeInRedis(hits, now);
      } catch (error) {
        this.outage.failed(error);
      }
    }
    return this.chargeInDatabase(identifier, hits);
  }

  /** One Lua script: shared by every instance using the same Redis. */
  private async chargeInRedis(hits: WindowHit[], now: number): Promise<ChargeOutcome> {
    const result = await (this.redisStore as RedisWindowStore).consume(hits, now);
    const counts = new Map(hits.map((hit, i) => [hit.policy, result.counts[i]] as const));
    const refused = result.allowed ? [] : hits.filter((h, i) => result.counts[i] + h.cost > h.limit);
    return { counts, refused };
  }

  /** One conditional upsert per policy in one transaction, rolled back if any policy refuses. */
  private async chargeInDatabase(identifier: string, hits: WindowHit[]): Promise<ChargeOutcome> {
    const counts = new Map<string, number>();
    const refused: WindowHit[] = [];
    try {
      await this.prisma.fastTransaction(async (tx) => {
        for (const hit of hits) {
          const count = await this.repository.tryConsume(tx, hit);
          if (count === null) refused.push(hit);
          else counts.set(hit.policy, count);
        }
        if (refused.length > 0) throw new Refused();
      });
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
    }
    return { counts: refused.length > 0 ? await this.currentCounts(identifier, hits) : counts, refused };
  }

  private async currentCounts(identifier: string, hits: WindowHit[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const hit of hits)
      counts.set(hit.policy, await this.repository.currentCount(identifier, hit.policy, hit.windowStart));
    return counts;
  }

  async sweep(): Promise<void> {
    try {
      const removed = await this.repository.deleteExpired(this.clock.now());
      if (removed > 0) this.logger.debug(`Swept ${removed} expired rate-limit windows`);
    } catch (error) {
      this.logger.errorWithStack('Rate-limit sweep failed', error);
    }
  }

  private hitFor(identifier: string, policy: RatePolicyName, cost: number, now: number): WindowHit {
    const { limit, windowMs } = this.config.rateLimits[policy];
    const windowStart = Math.floor(now / windowMs) * windowMs;
    return { identifier, policy, windowStart, expiresAt: windowStart + windowMs, cost, limit };
  }

  private stateOf(hit: WindowHit, count: number, now: number): PolicyState {
    const windowMs = hit.expiresAt - hit.windowStart;
    return {
      policy: hit.policy,
      limit: hit.limit,
      remaining: Math.max(0, hit.limit - count),
      resetSeconds: Math.max(1, Math.ceil((hit.expiresAt - now) / 1000)),
      windowSeconds: Math.round(windowMs / 1000),
    };
  }
}
