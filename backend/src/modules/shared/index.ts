/** What the batch and feature-flag modules share; a host copies this folder with them. */
export * from './ports';
export { AppException } from './errors/app-exception';
export { ErrorCode, statusOf } from './errors/error-code';
export { Clock, ManualClock, SystemClock } from './clock';
export { createEngineDatabase, type OwnedEngineDatabase } from './database/engine-database';
export type { SqlExecutor } from './database/sql-executor';
export type { SqlDialect } from './database/sql-dialect';
export type { PolicyState } from './rate-limit-headers';
export type { AsyncModuleOptions, HostPorts } from './module-options';
export { DEFAULT_RATE_POLICIES, PolicyRateLimiter, type RatePolicy } from './rate-limit/policy-rate-limiter';
export { BatchOpsCoreModule, HOST_PORTS } from './batch-ops-core.module';
