import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import type { FeatureFlag, Prisma } from '@prisma/client';
import { Clock } from '../shared/clock';
import { AppException } from '../shared/errors/app-exception';
import { ModuleLogger } from '../shared/module-logger';
import {
  METRICS_PORT,
  type MetricsPort,
  type ModuleUser,
  REDIS_CONNECTION,
  REDIS_KEY_PREFIX,
  REQUEST_CONTEXT_PORT,
  type RequestContextPort,
} from '../shared/ports';
import { FEATURE_FLAGS_OPTIONS, type FeatureFlagsModuleOptions } from './feature-flags.options';
import type { z } from 'zod';
import { flagViewSchema, PatchFlagDto, PutFlagDto } from './dto/flag.dto';
import { Evaluation, evaluateFlag, FlagRule } from './flag-evaluation';
import { FeatureFlagsRepository, FlagWrite } from './feature-flags.repository';

export const FLAG_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** A flag as the admin API answers it: the type of `flagViewSchema` (metadata is any stored JSON object). */
export type FlagView = Omit<z.infer<typeof flagViewSchema>, 'metadata'> & { metadata: unknown };

const asIds = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

export function toFlagView(flag: FeatureFlag): FlagView {
  return {
    name: flag.name,
    enabled: flag.enabled,
    rollout: Number(flag.rollout),
    whitelist: asIds(flag.whitelist),
    blacklist: asIds(flag.blacklist),
    description: flag.description,
    metadata: flag.metadata ?? null,
    createdAt: flag.createdAt.toISOString(),
    updatedAt: flag.updatedAt.toISOString(),
    updatedBy: flag.updatedBy,
  };
}

/**
 * Database-backed flags with an in-process cache: evaluation costs no query while the
 * cache is fresh (FEATURE_FLAG_CACHE_MS); this instance sees its own changes at once.
 */
@Injectable()
export class FeatureFlagsService implements OnModuleInit, OnApplicationShutdown {
  private subscriber: Redis | null = null;
  private cache: Map<string, FlagRule & { whitelistSet?: Set<string> }> | null = null;
  private loadedAt = 0;
  private loading: Promise<void> | null = null;
  private readonly reportedMissing = new Set<string>();
  private readonly logger: ModuleLogger;

  constructor(
    private readonly repository: FeatureFlagsRepository,
    private readonly clock: Clock,
    @Inject(FEATURE_FLAGS_OPTIONS) private readonly options: FeatureFlagsModuleOptions,
    @Inject(REDIS_KEY_PREFIX) private readonly redisKeyPrefix: string,
    @Inject(REQUEST_CONTEXT_PORT) private readonly context: RequestContextPort,
    logger: ModuleLogger,
    @Inject(REDIS_CONNECTION) private readonly redis: Redis | null,
    @Inject(METRICS_PORT) private readonly metrics: MetricsPort,
  ) {
    this.logger = logger.forContext(FeatureFlagsService.name);
  }

  /** With Redis, every instance drops its cache as soon as any instance changes a flag. */
  onModuleInit(): void {
    if (!this.redis) return;
    // Never waits for Redis: while it is down, other instances' changes arrive within the cache lifetime.
    this.subscriber = this.redis.duplicate({ enableOfflineQueue: true });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', () => this.invalidate());
    this.subscriber.subscribe(this.channel()).catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
  }

  private channel(): string {
    return `${this.redisKeyPrefix}feature-flags:changed`;
  }

  /** Evaluates `name` for `userId` (contract precedence). A missing flag is off, reason ERROR, logged once. */
  async evaluate(name: string, userId: string): Promise<Evaluation> {
    const rules = await this.rules();
    const rule = rules.get(name);
    if (!rule && !this.reportedMissing.has(name)) {
      this.reportedMissing.add(name);
      this.logger.warn(`Feature flag ${name} does not exist; it evaluates off`, {
        flag: name,
        errorCode: 'FLAG_NOT_FOUND',
      });
    }
    const evaluation = evaluateFlag(rule, userId);
    this.metrics.increment('feature_flag_evaluations_total', { flag: name, reason: evaluation.reason });
    return evaluation;
  }

  /** Whether the flag lets `userId` in, without counting an evaluation (cohorts of rollout guards). */
  async lets(name: string, userId: string): Promise<boolean> {
    return this.letsNow(name, userId) ?? evaluateFlag((await this.rules()).get(name), userId).enabled;
  }

  /** `lets` from a fresh cache without waiting; undefined when the cache must be read again first. */
  letsNow(name: string, userId: string): boolean | undefined {
    if (!this.cache || this.clock.now() - this.loadedAt >= (this.options.cacheMs ?? 5000)) return undefined;
    return evaluateFlag(this.cache.get(name), userId).enabled;
  }

  async isEnabled(name: string, userId: string): Promise<boolean> {
    return (await this.evaluate(name, userId)).enabled;
  }

  /** Every flag evaluated for one user (GET /me/features). */
  async evaluateAll(userId: string): Promise<Record<string, { enabled: boolean; reason: string }>> {
    const rules = await this.rules();
    const out: Record<string, { enabled: boolean; reason: string }> = {};
    for (const rule of rules.values()) {
      const { enabled, reason } = evaluateFlag(rule, userId);
      out[rule.name] = { enabled, reason };
    }
    return out;
  }

  async list(): Promise<FlagView[]> {
    return (await this.repository.findAll()).map(toFlagView);
  }

  async get(name: string): Promise<FlagView> {
    const flag = await this.repository.findByName(name);
    if (!flag) throw AppException.notFound('Feature flag');
    return toFlagView(flag);
  }

  /** Creates or replaces a flag; the change and its audit row commit together. */
  async put(actor: ModuleUser, name: string, body: PutFlagDto): Promise<FlagView> {
    assertName(name);
    return this.write(actor, name, () => ({
      enabled: body.enabled,
      rollout: body.rollout,
      whitelist: body.whitelist ?? [],
      blacklist: body.blacklist ?? [],
      description: body.description ?? null,
      metadata: body.metadata ?? null,
    }));
  }

  async patch(actor: ModuleUser, name: string, body: PatchFlagDto): Promise<FlagView> {
    assertName(name);
    return this.write(actor, name, (current) => {
      if (!current) throw AppException.notFound('Feature flag');
      const view = toFlagView(current);
      return {
        enabled: body.enabled ?? view.enabled,
        rollout: body.rollout ?? view.rollout,
        whitelist: body.whitelist ?? view.whitelist,
        blacklist: body.blacklist ?? view.blacklist,
        description: body.description ?? view.description,
        metadata: body.metadata ?? (view.metadata as Record<string, unknown> | null),
      };
    });
  }

  async remove(actor: ModuleUser, name: string): Promise<void> {
    await this.write(actor, name, (current) => {
      if (!current) throw AppException.notFound('Feature flag');
      return undefined;
    });
  }

  async audit(name: string) {
    const rows = await this.repository.audit(name);
    return {
      data: rows.map((r) => ({
        actor: r.actor,
        action: r.action,
        before: r.before ?? null,
        after: r.after ?? null,
        correlationId: r.correlationId,
        createdAt: r.createdAt.toISOString(),
      })),
    };
  }

  /** Drops the cache so the next evaluation reads the database (this instance's own changes, or a push from elsewhere). */
  invalidate(): void {
    this.cache = null;
  }

  /**
   * A change a rollout plan makes (or an admin's plan action that moves the flag), audited
   * as `rollout-plan.<transition>` with what decided it, committed with the plan's own
   * row (`alongside`), seen at once here and pushed to every instance like any change.
   */
  changeForPlan(
    actor: string,
    name: string,
    change: (current: FeatureFlag | null) => FlagWrite | undefined,
    audit: { action: string; note: Record<string, unknown> },
    alongside: (tx: Prisma.TransactionClient, current: FeatureFlag | null) => Promise<void>,
  ): Promise<FlagView> {
    return this.write({ userId: actor, roles: [] }, name, change, { ...audit, alongside });
  }

  private async write(
    actor: ModuleUser,
    name: string,
    change: (current: FeatureFlag | null) => FlagWrite | undefined,
    options: {
      action?: string;
      note?: Record<string, unknown>;
      alongside?: (tx: Prisma.TransactionClient, current: FeatureFlag | null) => Promise<void>;
    } = {},
  ): Promise<FlagView> {
    const correlationId = this.context.correlationId() ?? 'none';
    const stored = await this.repository.change(
      name,
      { actor: actor.userId, correlationId, action: options.action, note: options.note },
      change,
      (f) => (f ? toFlagView(f) : null),
      options.alongside,
    );
    this.invalidate();
    await this.redis?.publish(this.channel(), name).catch((error: unknown) =>
      this.logger.warn(
        'Flag change not pushed (Redis down): other instances see it within the cache lifetime',
        {
          error: error instanceof Error ? error.message : String(error),
        },
      ),
    );
    this.reportedMissing.delete(name);
    this.logger.audit('feature_flag.changed', {
      flag: name,
      actor: actor.userId,
      after: stored ? toFlagView(stored) : null,
    });
    return stored ? toFlagView(stored) : (undefined as unknown as FlagView);
  }

  private async rules(): Promise<Map<string, FlagRule>> {
    const fresh = this.cache && this.clock.now() - this.loadedAt < (this.options.cacheMs ?? 5000);
    if (!fresh) {
      this.loading ??= this.load().finally(() => (this.loading = null));
      await this.loading;
    }
    return this.cache as Map<string, FlagRule>;
  }

  private async load(): Promise<void> {
    const flags = await this.repository.findAll();
    this.cache = new Map(flags.map((f) => [f.name, { ...toFlagView(f) }]));
    this.loadedAt = this.clock.now();
  }
}

function assertName(name: string): void {
  if (!FLAG_NAME_PATTERN.test(name)) {
    throw AppException.validation(`Flag name must match ${FLAG_NAME_PATTERN.source}`, {
      errors: [`name must match ${FLAG_NAME_PATTERN.source}`],
    });
  }
}
