import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AppException } from '../errors/app-exception';
import { ErrorCode } from '../errors/error-code';
import { AppLogger } from '../logger/app-logger';
import { clientIdentity } from './client-identity';
import { rateLimitHeaders } from './rate-limit-headers';
import { RATE_LIMIT_SPECS, RateLimitSpec } from './rate-limit.decorator';
import { RateLimitingService } from './rate-limiting.service';

/** Enforces @RateLimit(...) policies; fails open (and logs) if the limiter's storage fails. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger: AppLogger;

  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimitingService,
    logger: AppLogger,
  ) {
    this.logger = logger.forContext(RateLimitGuard.name);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const specs = this.reflector.getAllAndOverride<RateLimitSpec[] | undefined>(RATE_LIMIT_SPECS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!specs || specs.length === 0) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    const charges = specs.map((s) => ({
      policy: s.policy,
      cost: Math.max(1, Math.floor(s.cost?.(req) ?? 1)),
    }));
    let decision;
    try {
      decision = await this.limiter.consume(clientIdentity(req), charges);
    } catch (error) {
      this.logger.errorWithStack('Rate limiter storage failed; allowing the request', error);
      return true;
    }
    const headers = rateLimitHeaders(decision.states, decision.violated);
    if (decision.allowed) {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      return true;
    }
    throw new AppException(
      ErrorCode.RateLimited,
      `Rate limit exceeded for ${decision.violated.map((v) => v.policy).join(', ')}`,
      { violatedPolicies: decision.violated },
      headers,
    );
  }
}
