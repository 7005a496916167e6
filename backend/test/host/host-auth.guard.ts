import {
  CanActivate,
  ExecutionContext,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';

export const HOST_JWT_SECRET = 'host-monolith-secret-for-tests-only';

/** What the host's Passport JWT strategy puts on `req.user`. */
export interface HostUser {
  userId: string;
  email: string;
  role: 'user' | 'admin';
}

export const HostPublic = () => SetMetadata('host:public', true);

/** The host's global JWT guard, Passport style: verifies the bearer token and sets `req.user`. */
@Injectable()
export class HostJwtAuthGuard implements CanActivate {
  constructor(
    private readonly jwt: JwtService,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>('host:public', [context.getHandler(), context.getClass()]))
      return true;
    const req = context.switchToHttp().getRequest<Request & { user?: HostUser }>();
    const user = verifyHostToken(this.jwt, req.header('authorization')?.replace(/^Bearer /, ''));
    if (!user) throw new UnauthorizedException('Invalid or missing token');
    req.user = user;
    return true;
  }
}

export function verifyHostToken(jwt: JwtService, token: string | undefined): HostUser | null {
  if (!token) return null;
  try {
    const claims = jwt.verify<{ sub: string; email: string; role: 'user' | 'admin' }>(token, {
      secret: HOST_JWT_SECRET,
    });
    return { userId: claims.sub, email: claims.email, role: claims.role };
  } catch {
    return null;
  }
}

export function hostToken(userId: string, role: 'user' | 'admin' = 'user'): string {
  return new JwtService().sign(
    { sub: userId, email: `${userId}@host.test`, role },
    { secret: HOST_JWT_SECRET, expiresIn: 3600 },
  );
}
