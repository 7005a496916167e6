import { randomUUID } from 'node:crypto';
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

/** The host's roles, kept on its `User` row (tokens carry none). */
export type HostRole = 'ADMIN' | 'RESEARCHER' | 'PARTICIPANT';

/** What the host's Passport JWT strategy puts on `req.user`: the token's claims. */
export interface HostUser {
  userId: string;
  email: string;
  jti: string;
  /** Epoch seconds. */
  exp?: number;
}

export const HostPublic = () => SetMetadata('host:public', true);

/**
 * The host's JWT guard, Passport style: verifies the bearer token and sets `req.user`.
 * As in the real host, it is put on each of the host's controllers (`@UseGuards`), never
 * globally, so it never runs on the modules' routes.
 */
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
    const claims = jwt.verify<{ sub: string; email: string; jti: string; exp?: number }>(token, {
      secret: HOST_JWT_SECRET,
    });
    return { userId: claims.sub, email: claims.email, jti: claims.jti, exp: claims.exp };
  } catch {
    return null;
  }
}

/** A token as the host mints them: `{ sub, email, jti }`, no role. */
export function hostToken(userId: string, expiresInSeconds = 3600): string {
  return new JwtService().sign(
    { sub: userId, email: `${userId}@host.test`, jti: randomUUID() },
    { secret: HOST_JWT_SECRET, expiresIn: expiresInSeconds },
  );
}
