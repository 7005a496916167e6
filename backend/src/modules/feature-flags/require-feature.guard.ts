import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppException } from '../shared/errors/app-exception';
import { ErrorCode } from '../shared/errors/error-code';
import { userOfRequest } from '../shared/module-auth';
import { FeatureFlagsService } from './feature-flags.service';
import { RolloutSignals } from './rollout/rollout-signals';

/** Where the module's exception filter leaves the error code of an answer (rollout guards read it). */
export const MODULE_ERROR_CODE = 'moduleErrorCode';

export const REQUIRED_FEATURE = 'featureFlags:required';

/** Gates a controller or handler behind a flag evaluated for the caller (403 FEATURE_DISABLED). */
export const RequireFeature = (name: string) => SetMetadata(REQUIRED_FEATURE, name);

@Injectable()
export class RequireFeatureGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly flags: FeatureFlagsService,
    private readonly signals: RolloutSignals,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const name = this.reflector.getAllAndOverride<string | undefined>(REQUIRED_FEATURE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!name || context.getType() !== 'http') return true;
    // ModuleAuthGuard runs first on every route of the modules and resolves the user.
    const http = context.switchToHttp();
    const user = userOfRequest(http.getRequest());
    // Rollout guards measure the answers of gated routes (only while a plan is active).
    if (user && this.signals.watching) this.measure(user.userId, http.getResponse());
    if (!user || !(await this.flags.isEnabled(name, user.userId))) {
      throw new AppException(ErrorCode.FeatureDisabled, `Feature ${name} is not enabled for you`);
    }
    return true;
  }

  private measure(
    userId: string,
    res: {
      once?(event: 'finish', fn: () => void): unknown;
      statusCode?: number;
      locals?: Record<string, unknown>;
    },
  ): void {
    const started = performance.now();
    res.once?.('finish', () => {
      const code = res.locals?.[MODULE_ERROR_CODE];
      this.signals.request(userId, {
        status: res.statusCode ?? 0,
        durationMs: performance.now() - started,
        code: typeof code === 'string' ? code : undefined,
      });
    });
  }
}
