import { Global, Inject, Injectable, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import type { HostPorts } from '../../modules/shared/module-options';
import type {
  AuthPort,
  EngineDatabase,
  RateLimiterPort,
  RequestContextPort,
} from '../../modules/shared/ports';
import { TokenService } from '../auth/token.service';
import { Clock } from '../../modules/shared/clock';
import type { AppConfig, RatePolicyName } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RequestContext } from '../context/request-context';
import { createEngineDatabase } from '../../modules/shared/database/engine-database';
import { isPostgresUrl } from '../../modules/shared/database/database-url';
import { BACKEND_DIR } from '../prisma/database-url';
import { AppLogger } from '../logger/app-logger';
import { MetricsService } from '../metrics/metrics.service';
import { PrismaService } from '../prisma/prisma.service';
import { prismaEngineDatabase } from './prisma-engine-database';
import { REDIS } from '../redis/redis.module';
import { RateLimitingService } from '../rate-limit/rate-limiting.service';

/*
 * The standalone service's adapters for the modules' ports: this common layer plays
 * the host. A monolith writes the same few lines against its own services
 * (docs/integrating.md).
 */

/** The bearer token of the request (or socket), verified by the service's TokenService. */
export function tokenAuth(tokens: TokenService): AuthPort {
  return {
    authenticate: (request) => {
      const header = (request as { headers?: Record<string, unknown> }).headers?.authorization;
      const match = typeof header === 'string' ? /^Bearer (.+)$/.exec(header) : null;
      return tokens.verify(match?.[1]);
    },
    authenticateSocket: async ({ auth }) =>
      tokens.verify(typeof auth.token === 'string' ? auth.token : undefined),
  };
}

export const asyncLocalContext: RequestContextPort = {
  correlationId: () => RequestContext.correlationId(),
  run: (store, fn) => RequestContext.run(store, fn),
};

export function policyLimiter(limiter: RateLimitingService): RateLimiterPort {
  return {
    consume: (key, charges) =>
      limiter.consume(
        key,
        charges.map((c) => ({ policy: c.policy as RatePolicyName, cost: c.cost })),
      ),
  };
}

/** Builds every port of both modules from the standalone service's common layer. */
@Injectable()
export class StandaloneModulePorts {
  constructor(
    private readonly prisma: PrismaService,
    private readonly logger: AppLogger,
    private readonly tokens: TokenService,
    private readonly limiter: RateLimitingService,
    private readonly clock: Clock,
    @Inject(REDIS) private readonly redis: Redis | null,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  host(): HostPorts {
    return {
      prisma: this.prisma,
      logger: this.logger,
      context: asyncLocalContext,
      auth: tokenAuth(this.tokens),
      redis: this.redis,
      redisKeyPrefix: this.config.REDIS_KEY_PREFIX,
      clock: this.clock,
      metrics: this.metrics,
    };
  }

  /**
   * The path a host gets (createEngineDatabase): on SQLite a better-sqlite3 connection of the
   * engine's own beside Prisma's, on PostgreSQL the engine's own pg pool, so the hot path runs
   * plain transactions instead of Prisma's interactive ones. With BATCH_ENGINE_CONNECTION=shared,
   * SQLite's engine statements run on Prisma's own connection instead; the bench measures both,
   * and the shared one has not measured faster (see README, Benchmarks).
   */
  database(): EngineDatabase {
    return isPostgresUrl(this.config.DATABASE_URL) || this.config.BATCH_ENGINE_CONNECTION === 'own'
      ? createEngineDatabase(this.config.DATABASE_URL, { baseDir: BACKEND_DIR })
      : prismaEngineDatabase(this.prisma);
  }

  rateLimiter(): RateLimiterPort {
    return policyLimiter(this.limiter);
  }
}

@Global()
@Module({ providers: [StandaloneModulePorts], exports: [StandaloneModulePorts] })
export class ModulePortsModule {}
