import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import type Redis from 'ioredis';
import { Public } from '../auth/auth.decorators';
import { PrismaService } from '../prisma/prisma.service';
import { REDIS } from '../redis/redis.module';

export interface Health {
  status: 'ok' | 'degraded';
  db: 'ok' | 'down';
  redis?: 'ok' | 'down';
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {}

  @Get()
  @Public()
  @SkipThrottle()
  @ApiOperation({
    summary:
      'Database and Redis status: 200 ok, 200 degraded when Redis is down (the service keeps serving), 503 when the database is down',
  })
  async check(@Res({ passthrough: true }) res: Response): Promise<Health> {
    const db = (await this.prisma.ping()) ? 'ok' : 'down';
    const redis = this.redis ? (this.redis.status === 'ready' ? 'ok' : 'down') : undefined;
    if (db === 'down') res.status(HttpStatus.SERVICE_UNAVAILABLE).setHeader('Retry-After', '5');
    const status = db === 'down' || redis === 'down' ? 'degraded' : 'ok';
    return redis ? { status, db, redis } : { status, db };
  }
}
