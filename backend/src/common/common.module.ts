import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ModulePortsModule } from './adapters/module-ports';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { DevLoginController } from './auth/dev-login.controller';
import { AllExceptionsFilter } from './errors/all-exceptions.filter';
import { HealthController } from './health/health.controller';
import { MetricsModule } from './metrics/metrics.module';
import { LoggerModule } from './logger/logger.module';
import { PrismaModule } from './prisma/prisma.module';
import { RedisModule } from './redis/redis.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { UserThrottlerGuard } from './rate-limit/user-throttler.guard';

/**
 * The host monolith's common layer. Global guards run in this order: authentication,
 * then the global throttler (keyed by the verified user). Feature and database-backed
 * rate-limit guards are applied per route.
 */
@Module({
  imports: [
    LoggerModule,
    PrismaModule,
    RedisModule,
    AuthModule,
    RateLimitModule,
    MetricsModule,
    ModulePortsModule,
  ],
  controllers: [HealthController, DevLoginController],
  providers: [
    { provide: APP_GUARD, useExisting: AuthGuard },
    { provide: APP_GUARD, useExisting: UserThrottlerGuard },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
  ],
})
export class CommonModule {}
