import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Provider } from '@nestjs/common';
import type Redis from 'ioredis';
import { Clock, SystemClock } from './clock';
import { ModuleContext } from './module-context';
import { ModuleLogger } from './module-logger';
import {
  ADMIN_ROLE,
  AUTH_PORT,
  type AuthPort,
  LOGGER_PORT,
  type LoggerPort,
  METRICS_PORT,
  type MetricsPort,
  NO_METRICS,
  PRISMA_CLIENT,
  REDIS_CONNECTION,
  REDIS_KEY_PREFIX,
  REQUEST_CONTEXT_PORT,
  type RequestContextPort,
  withAdminRoles,
} from './ports';

/** What both modules need from their host. */
export interface HostPorts {
  /** The host's Prisma client, with the modules' models in its schema. */
  prisma: unknown;
  logger: LoggerPort;
  context: RequestContextPort;
  auth: AuthPort;
  /** The host's role names that make a user the modules' admin (default `['admin']`). */
  adminRoles?: string[];
  /** ioredis connection shared by the instances (flag pushes, event fan-out); null or absent without Redis. */
  redis?: Redis | null;
  /** Prefix of Redis channel names (default `nbo:`). */
  redisKeyPrefix?: string;
  /** The source of "now" (tests move it). */
  clock?: Clock;
  /** Where the modules report their counters (optional). */
  metrics?: MetricsPort;
}

/** `forRootAsync` options: a factory with its injected dependencies, as Nest modules usually take them. */
export interface AsyncModuleOptions<T> {
  imports?: ModuleMetadata['imports'];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the factory's arguments are whatever `inject` lists
  useFactory: (...args: any[]) => T | Promise<T>;
}

export function optionsProvider<T>(token: symbol, options: AsyncModuleOptions<T>): Provider {
  return { provide: token, inject: options.inject ?? [], useFactory: options.useFactory };
}

/** Binds every port of `HostPorts` from the module's options token. */
export function hostPortProviders(token: InjectionToken): Provider[] {
  // One ModuleContext per module options, shared by the context port and the logger.
  const contexts = new WeakMap<object, ModuleContext>();
  const contextOf = (o: HostPorts) => {
    let context = contexts.get(o);
    if (!context) contexts.set(o, (context = new ModuleContext(o.context)));
    return context;
  };
  const from = (provide: InjectionToken, pick: (o: HostPorts) => unknown): Provider => ({
    provide,
    inject: [token],
    useFactory: pick,
  });
  return [
    from(PRISMA_CLIENT, (o) => o.prisma),
    from(LOGGER_PORT, (o) => o.logger),
    from(REQUEST_CONTEXT_PORT, (o) => contextOf(o)),
    from(AUTH_PORT, (o) => withAdminRoles(o.auth, o.adminRoles ?? [ADMIN_ROLE])),
    from(REDIS_CONNECTION, (o) => o.redis ?? null),
    from(REDIS_KEY_PREFIX, (o) => o.redisKeyPrefix ?? 'nbo:'),
    from(Clock, (o) => o.clock ?? new SystemClock()),
    from(METRICS_PORT, (o) => o.metrics ?? NO_METRICS),
    from(ModuleLogger, (o) => new ModuleLogger(o.logger, undefined, () => contextOf(o).fields())),
  ];
}
