import { createSecretKey, KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { LRUCache } from 'lru-cache';
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
  /**
   * Tokens already verified, until their `exp`: a request is verified twice (the service's
   * guard, then the modules' AuthPort), and an HMAC check with its JSON decoding was ~40 µs
   * of each. Keyed by the whole token, so a changed byte is a miss and verified afresh;
   * failures are not kept (a flood of bad tokens cannot evict the good ones).
   */
  private readonly verified = new LRUCache<string, AuthUser & { exp: number }>({ max: 10_000 });

  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.key = createSecretKey(Buffer.from(config.JWT_SECRET, 'utf8'));
  }

  /** Returns the user of a valid token, or null for a missing, malformed, expired or badly signed one. */
  async verify(token: string | undefined): Promise<AuthUser | null> {
    if (!token) return null;
    const known = this.verified.get(token);
    if (known) {
      if (Math.floor(Date.now() / 1000) < known.exp) return { ...known, roles: [...known.roles] };
      this.verified.delete(token);
      return null;
    }
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
      const user = { userId: claims.sub, roles, exp: claims.exp };
      this.verified.set(token, { ...user, roles: [...roles] });
      return user;
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
