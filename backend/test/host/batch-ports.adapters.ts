/*
 * The integration glue a monolith writes (docs/integrating.md): one adapter per port,
 * each a few lines over a service the host already has.
 */
import { JwtService } from '@nestjs/jwt';
import type { AuthPort, LoggerPort, ModuleUser, RequestContextPort } from '../../src/modules/batch';
import { getCorrelationId, runWithCorrelation } from './host-context';
import { HostUser, verifyHostToken } from './host-auth.guard';
import { HostLoggerService } from './host-logger.service';
import { HostPrismaService } from './host-prisma.service';

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
