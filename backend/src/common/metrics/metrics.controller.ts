import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../modules/shared/openapi';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { AppException } from '../../modules/shared/errors/app-exception';
import { ErrorCode } from '../../modules/shared/errors/error-code';
import { Public } from '../auth/auth.decorators';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @Public()
  @SkipThrottle()
  @ApiOperation({
    summary:
      'Prometheus metrics. With METRICS_TOKEN set, only with Authorization: Bearer <METRICS_TOKEN> (any NODE_ENV); without it, open in development and 404 in production',
  })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Prometheus text format', schema: { type: 'string' } })
  @ApiErrors(ErrorCode.Unauthenticated, ErrorCode.NotFound)
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    // A token, once set, is required in every environment; without one, /metrics is open in
    // development and absent in production. Only the Bearer scheme is accepted.
    const token = this.config.METRICS_TOKEN;
    if (!token && this.config.NODE_ENV === 'production') throw AppException.notFound('Route');
    if (token) {
      const bearer = /^Bearer (.+)$/.exec(authorization ?? '');
      const given = Buffer.from(bearer?.[1] ?? '');
      const expected = Buffer.from(token);
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw new AppException(ErrorCode.Unauthenticated, 'A valid metrics token is required');
    }
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }
}
