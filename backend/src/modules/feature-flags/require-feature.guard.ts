import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppException } from '../shared/errors/app-exception';
import { ErrorCode } from '../shared/errors/error-code';
import { userOfRequest } from '../shared/module-auth';
import { FeatureFlagsService } from './feature-flags.service';

export const REQUIRED_FEATURE = 'featureFlags:required';

/** Gates a controller or handler behind a flag evaluated for the caller (403 FEATURE_DISABLED). */
export const RequireFeature = (name: string) => SetMetadata(REQUIRED_FEATURE, name);

@Injectable()
export class RequireFeatureGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly flags: FeatureFlagsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const name = this.reflector.getAllAndOverride<string | undefined>(REQUIRED_FEATURE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!name || context.getType() !== 'http') return true;
    // ModuleAuthGuard runs first on every route of the modules and resolves the user.
    const user = userOfRequest(context.switchToHttp().getRequest());
    if (!user || !(await this.flags.isEnabled(name, user.userId))) {
      throw new AppException(ErrorCode.FeatureDisabled, `Feature ${name} is not enabled for you`);
    }
    return true;
  }
}
