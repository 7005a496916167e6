import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  getOptionsToken,
  getStorageToken,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import type { RatePolicyName } from '../config/app-config';
import { clientIdentity } from './client-identity';
import { PolicyState, rateLimitedException } from '../../modules/shared/rate-limit-headers';

/** The throttler's names and the configuration policies they come from. */
const POLICY_OF: Record<string, RatePolicyName> = {
  default: 'THROTTLE_DEFAULT',
  auth: 'THROTTLE_AUTH',
  upload: 'THROTTLE_UPLOAD',
};

class Throttled extends Error {
  constructor(readonly detail: ThrottlerLimitDetail) {
    super('throttled');
  }
}

/**
 * @nestjs/throttler keyed by verified user id (the auth guard runs first), else by client IP.
 * Its own headers are off (`setHeaders: false`: it would answer `Retry-After-auth` and
 * per-throttler suffixed fields); a refusal leaves as the service's one 429 shape,
 * describing the throttler that refused.
 */
@Injectable()
export class UserThrottlerGuard extends ThrottlerGuard {
  constructor(
    @Inject(getOptionsToken()) options: ThrottlerModuleOptions,
    @Inject(getStorageToken()) storage: ThrottlerStorage,
    reflector: Reflector,
  ) {
    super(options, storage, reflector);
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    return clientIdentity(req as unknown as Request);
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return Promise.resolve(true);
    return super.canActivate(context);
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(request);
    } catch (error) {
      if (!(error instanceof Throttled)) throw error;
      const policy = POLICY_OF[request.throttler.name ?? 'default'] ?? 'THROTTLE_DEFAULT';
      // The limit that refused, as resolved for this route (a route's @Throttle overrides the default).
      const state: PolicyState = {
        policy,
        limit: request.limit,
        remaining: 0,
        resetSeconds: Math.max(1, error.detail.timeToBlockExpire || error.detail.timeToExpire),
        windowSeconds: Math.round(request.ttl / 1000),
      };
      throw rateLimitedException([state], [state]);
    }
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    return Promise.reject(new Throttled(detail));
  }
}
