import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppException } from './errors/app-exception';
import { ErrorCode } from './errors/error-code';
import { AUTH_PORT, type AuthPort, isAdmin, type ModuleUser } from './ports';

const USER_KEY = Symbol('moduleUser');
const ADMIN_ONLY = 'moduleAuth:adminOnly';

/** Marks a route (or controller) as admin only: 403 FORBIDDEN for everyone else. */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

/** The user `ModuleAuthGuard` resolved for this request. */
export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): ModuleUser =>
    ctx.switchToHttp().getRequest<Record<symbol, ModuleUser>>()[USER_KEY],
);

export function userOfRequest(request: unknown): ModuleUser | undefined {
  return (request as Record<symbol, ModuleUser | undefined>)[USER_KEY];
}

/**
 * Asks the host (AuthPort) who is calling, on every module route, whatever the host's
 * own guards did (they may never run on module routes): 401
 * without a user, 403 on @AdminOnly routes for non-admins. The user is then available
 * to handlers through @CurrentUser() and to later guards through `userOfRequest`.
 */
@Injectable()
export class ModuleAuthGuard implements CanActivate {
  constructor(
    @Inject(AUTH_PORT) private readonly auth: AuthPort,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Record<symbol, ModuleUser>>();
    const user = await this.auth.authenticate(request);
    if (!user) throw new AppException(ErrorCode.Unauthenticated, 'Missing or invalid credentials');
    const adminOnly = this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (adminOnly && !isAdmin(user)) throw new AppException(ErrorCode.Forbidden, 'Requires role: admin');
    request[USER_KEY] = user;
    return true;
  }
}
