import { Body, Controller, Get, Inject, NotFoundException, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Throttle } from '@nestjs/throttler';
import { z } from 'zod';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppException } from '../../modules/shared/errors/app-exception';
import { ErrorCode } from '../../modules/shared/errors/error-code';
import { ApiErrors, ApiOk } from '../../modules/shared/openapi';
import { ApiBodyFrom } from '../../modules/shared/zod-params';
import { AppLogger } from '../logger/app-logger';
import { UseThrottlers } from '../rate-limit/rate-limit.decorator';
import { ADMIN_ROLE } from './auth-user';
import { Public } from './auth.decorators';
import { TokenService } from './token.service';

const devLoginSchema = z.strictObject({
  userId: z.string().regex(/^[A-Za-z0-9._:@-]{1,64}$/, 'userId must be 1-64 letters, digits or ._:@-'),
  admin: z.boolean().optional(),
});

/** Tokens for local use by the web page; answers 404 when NODE_ENV=production. */
@ApiTags('auth')
@Controller()
export class DevLoginController {
  private readonly logger: AppLogger;

  constructor(
    private readonly tokens: TokenService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    logger: AppLogger,
  ) {
    this.logger = logger.forContext(DevLoginController.name);
  }

  @Get('app-config')
  @Public()
  @ApiOperation({ summary: 'What the web page may offer (dev login outside production)' })
  @ApiOk(200, z.object({ devLogin: z.boolean(), maxBatchItems: z.number().int() }), 'The page settings')
  @ApiErrors()
  appConfig() {
    return { devLogin: this.devLoginAllowed(), maxBatchItems: this.config.MAX_BATCH_ITEMS };
  }

  @Post('auth/dev-login')
  @Public()
  @UseThrottlers('auth')
  @Throttle({ auth: { limit: 30, ttl: 60_000 } })
  @ApiOperation({ summary: 'Development only: a token for any user id (404 in production)' })
  @ApiBodyFrom(devLoginSchema)
  @ApiOk(201, z.object({ token: z.string() }), 'A 12-hour token')
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  login(@Body() body: unknown) {
    if (!this.devLoginAllowed()) throw new NotFoundException();
    const parsed = devLoginSchema.safeParse(body);
    if (!parsed.success)
      throw AppException.validation('Invalid dev login', {
        errors: parsed.error.issues.map((i) => i.message),
      });
    this.logger.security('auth.dev_login', { userId: parsed.data.userId, admin: parsed.data.admin === true });
    return { token: this.tokens.sign(parsed.data.userId, parsed.data.admin ? [ADMIN_ROLE] : []) };
  }

  private devLoginAllowed(): boolean {
    return this.config.NODE_ENV !== 'production';
  }
}
