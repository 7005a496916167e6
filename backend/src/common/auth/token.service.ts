import { createSecretKey, KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AuthUser } from './auth-user';

interface Claims {
  sub?: unknown;
  roles?: unknown;
  exp?: number;
}

/** Verifies and mints HS256 tokens with the configured secret (HTTP and Socket.io share it). */
@Injectable()
export class TokenService {
  /**
   * A KeyObject made once: handed a string, jsonwebtoken first tries to parse it as a
   * public key on every call, and that failed parse was a quarter of a request's CPU.
   */
  private readonly key: KeyObject;

  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.key = createSecretKey(Buffer.from(config.JWT_SECRET, 'utf8'));
  }

  /** Returns the user of a valid token, or null for a missing, malformed, expired or badly signed one. */
  async verify(token: string | undefined): Promise<AuthUser | null> {
    if (!token) return null;
    try {
      const claims = await this.jwt.verifyAsync<Claims>(token, {
        secret: this.key as unknown as string,
        algorithms: ['HS256'],
      });
      if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) return null;
      // A token without `exp` would never expire (and a socket opened with it never close): refused.
      if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return null;
      const roles = Array.isArray(claims.roles)
        ? claims.roles.filter((r): r is string => typeof r === 'string')
        : [];
      return { userId: claims.sub, roles, exp: claims.exp };
    } catch {
      return null;
    }
  }

  sign(userId: string, roles: string[] = [], expiresInSeconds = 12 * 3600): string {
    return this.jwt.sign(
      { sub: userId, roles },
      { secret: this.key as unknown as string, algorithm: 'HS256', expiresIn: expiresInSeconds },
    );
  }
}
