import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { RequestContext } from '../context/request-context';
import { AppException } from '../../modules/shared/errors/app-exception';
import { ErrorCode } from '../../modules/shared/errors/error-code';
import { AuthUser } from './auth-user';
import { IS_PUBLIC, REQUIRED_ROLES } from './auth.decorators';
import { TokenService } from './token.service';

/** Global guard: every route needs a valid bearer token unless marked @Public(); @Roles() adds a role check. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const req = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    const header = req.header('authorization');
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const user = await this.tokens.verify(token);
    if (user) {
      req.user = user;
      RequestContext.setUser(user.userId);
    }
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    if (!user) {
      const message = header ? 'Invalid or expired token' : 'Missing bearer token';
      throw new AppException(ErrorCode.Unauthenticated, message);
    }
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_ROLES, targets) ?? [];
    if (!roles.every((role) => user.roles.includes(role))) {
      throw new AppException(ErrorCode.Forbidden, `Requires role: ${roles.join(', ')}`);
    }
    return true;
  }
}
