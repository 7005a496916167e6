import { ArgumentsHost, Catch, ExceptionFilter, Inject } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { isPostgresUrl } from '../../modules/shared/database/database-url';
import { RequestContext } from '../context/request-context';
import { AppLogger } from '../logger/app-logger';
import { MetricsService } from '../metrics/metrics.service';
import { respondWithError } from '../../modules/shared/errors/module-exception.filter';

/**
 * The standalone service's global filter: every error leaves as the contract's body
 * (`respondWithError`, shared with the modules' own filter, which module routes use); stacks go to the error log only.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger: AppLogger;

  private readonly dialect: 'sqlite' | 'postgres';

  constructor(
    logger: AppLogger,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.logger = logger.forContext('ExceptionFilter');
    this.dialect = isPostgresUrl(config.DATABASE_URL) ? 'postgres' : 'sqlite';
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    respondWithError(exception, host, {
      dialect: this.dialect,
      correlationId: (res) =>
        RequestContext.correlationId() ??
        (res.getHeader('X-Correlation-ID') as string | undefined) ??
        RequestContext.acceptOrCreate(undefined),
      log: this.logger,
      countRefusal: (policy) => this.metrics.rateLimited.inc({ policy }),
    });
  }
}
