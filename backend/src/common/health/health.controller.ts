import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiOk } from '../../modules/shared/openapi';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import type Redis from 'ioredis';
import { Public } from '../auth/auth.decorators';
import { PrismaService } from '../prisma/prisma.service';
import { REDIS } from '../redis/redis.module';

const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  db: z.enum(['ok', 'down']),
  redis: z.enum(['ok', 'down']).optional(),
});

export type Health = z.infer<typeof healthSchema>;

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
  @ApiOk(200, healthSchema, 'Serving: ok, or degraded while Redis is down')
  @ApiOk(503, healthSchema, 'The database is down (header Retry-After)')
  @ApiResponse({ status: 429, description: 'Never: /health is not throttled' })
  async check(@Res({ passthrough: true }) res: Response): Promise<Health> {
    const db = (await this.prisma.ping()) ? 'ok' : 'down';
    const redis = this.redis ? (this.redis.status === 'ready' ? 'ok' : 'down') : undefined;
    if (db === 'down') res.status(HttpStatus.SERVICE_UNAVAILABLE).setHeader('Retry-After', '5');
    const status = db === 'down' || redis === 'down' ? 'degraded' : 'ok';
    return redis ? { status, db, redis } : { status, db };
  }
}
