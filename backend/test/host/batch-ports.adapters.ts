/*
 * The integration glue a monolith writes (docs/integrating.md): one adapter per port,
 * each a few lines over a service the host already has.
 */
import { JwtService } from '@nestjs/jwt';
import type {
  AuthPort,
  LoggerPort,
  ModuleUser,
  PolicyState,
  RateLimiterPort,
  RequestContextPort,
} from '../../src/modules/batch';
import { getCorrelationId, runWithCorrelation } from './host-context';
import { HostUser, verifyHostToken } from './host-auth.guard';
import { HostLoggerService } from './host-logger.service';
import { HostPrismaService } from './host-prisma.service';
import { HostRateLimitConfig, HostRateLimitingService } from './host-rate-limiting.service';

export function loggerAdapter(logger: HostLoggerService): LoggerPort {
  return {
    log: (message, fields = {}) => logger.logStructured('info', message, fields),
    warn: (message, fields = {}) => logger.logStructured('warn', message, fields),
    error: (message, fields = {}) => logger.logStructured('error', message, fields),
    debug: (message, fields = {}) => logger.logStructured('debug', message, fields),
  };
}

export const contextAdapter: RequestContextPort = {
  correlationId: getCorrelationId,
  run: (store, fn) => runWithCorrelation({ correlationId: store.correlationId, userId: store.userId }, fn),
};

/**
 * The module authenticates by itself: the host's guard never runs on module routes. The
 * token is verified with the host's JwtService, and the role read from the host's `User`
 * table (tokens carry none); `adminRoles: ['ADMIN']` in the module options maps it.
 */
export function authAdapter(jwt: JwtService, prisma: HostPrismaService): AuthPort {
  const toModuleUser = async (user: HostUser | null): Promise<ModuleUser | null> => {
    if (!user) return null;
    const row = await prisma.user.findUnique({ where: { id: user.userId }, select: { role: true } });
    return { userId: user.userId, roles: [row?.role ?? 'PARTICIPANT'], exp: user.exp };
  };
  return {
    authenticate: (request) => {
      const header = (request as { headers?: Record<string, unknown> }).headers?.authorization;
      return toModuleUser(
        verifyHostToken(jwt, typeof header === 'string' ? header.replace(/^Bearer /, '') : undefined),
      );
    },
    authenticateSocket: ({ auth }) =>
      toModuleUser(verifyHostToken(jwt, typeof auth.token === 'string' ? auth.token : undefined)),
  };
}

export function rateLimiterAdapter(
  limiter: HostRateLimitingService,
  policies: Record<string, HostRateLimitConfig>,
): RateLimiterPort {
  return {
    consume: async (key, charges) => {
      const known = charges.filter((c) => policies[c.policy]);
      const hits = await limiter.checkAll(
        key,
        known.map((c) => ({ endpoint: c.policy, cost: c.cost, config: policies[c.policy] })),
      );
      const states: PolicyState[] = hits.map((hit, i) => {
        const { maxRequests, windowMs } = policies[known[i].policy];
        const charged = hits.every((h) => h.allowed) ? hit.count : hit.count - known[i].cost;
        return {
          policy: known[i].policy,
          limit: maxRequests,
          remaining: Math.max(0, maxRequests - charged),
          resetSeconds: Math.max(1, Math.ceil((hit.resetAt - Date.now()) / 1000)),
          windowSeconds: Math.round(windowMs / 1000),
        };
      });
      const violated = states.filter((_, i) => !hits[i].allowed);
      return { allowed: violated.length === 0, states, violated };
    },
  };
}
