import { Inject, Injectable } from '@nestjs/common';
import { Prisma, FeatureFlag, PrismaClient } from '@prisma/client';
import { SQLITE_BUSY_DEADLINE_MS } from '../shared/database/lock';
import { PRISMA_CLIENT } from '../shared/ports';

/** The host's client; the standalone service's PostgreSQL client brings its own `dbNull`. */
type FlagsPrisma = PrismaClient & { dbNull?: unknown };

export interface FlagWrite {
  enabled: boolean;
  rollout: number;
  whitelist: string[];
  blacklist: string[];
  description: string | null;
  metadata: Record<string, unknown> | null;
}

export interface AuditEntry {
  /** create | update | delete, or a rollout plan's `rollout-plan.<transition>`. */
  action: string;
  actor: string;
  correlationId: string;
  before: unknown;
  after: unknown;
}

/**
 * The ORM gives up starting a transaction after `maxWait` (2 s by default) while the
 * SQLite adapter is still waiting for the file's write lock (up to SQLITE_BUSY_DEADLINE_MS):
 * the request then failed with the ORM's timeout, not DATABASE_BUSY, and the late BEGIN
 * found nobody to end it. Waiting longer than the adapter lets the adapter's busy answer win.
 */
const TRANSACTION_OPTIONS = { maxWait: SQLITE_BUSY_DEADLINE_MS + 2000, timeout: 10_000 };

/** All SQL of feature flags. Every change writes its audit row in the same transaction. */
@Injectable()
export class FeatureFlagsRepository {
  constructor(@Inject(PRISMA_CLIENT) private readonly prisma: FlagsPrisma) {}

  /** SQL NULL for a Json column, from the client actually in use (each generated client has its own). */
  private json(value: unknown) {
    return value === null || value === undefined
      ? ((this.prisma.dbNull ?? Prisma.DbNull) as typeof Prisma.DbNull)
      : (value as Prisma.InputJsonValue);
  }

  findByName(name: string): Promise<FeatureFlag | null> {
    return this.prisma.featureFlag.findUnique({ where: { name } });
  }

  findAll(): Promise<FeatureFlag[]> {
    return this.prisma.featureFlag.findMany({ orderBy: { name: 'asc' } });
  }

  /**
   * Runs `change` on the current row (or null) and stores what it returns, with an
   * audit row, atomically. `change` returning undefined means delete.
   */
  async change(
    name: string,
    audit: Omit<AuditEntry, 'before' | 'after' | 'action'> & {
      /** Overrides create/update/delete (a rollout plan's transitions). */
      action?: string;
      /** Added to the audit row's `after` as `rolloutPlan` (what decided the change). */
      note?: Record<string, unknown>;
    },
    change: (current: FeatureFlag | null) => FlagWrite | undefined,
    toView: (flag: FeatureFlag | null) => unknown,
    /** More writes that commit or roll back with the change (a rollout plan's own row). */
    alongside?: (tx: Prisma.TransactionClient, current: FeatureFlag | null) => Promise<void>,
  ): Promise<FeatureFlag | null> {
    return this.prisma.$transaction(async (tx) => {
      const current = await tx.featureFlag.findUnique({ where: { name } });
      const next = change(current);
      let stored: FeatureFlag | null = null;
      if (next) {
        const data = { ...next, metadata: this.json(next.metadata), updatedBy: audit.actor };
        stored = await tx.featureFlag.upsert({ where: { name }, create: { name, ...data }, update: data });
      } else if (current) {
        await tx.featureFlag.delete({ where: { name } });
      }
      const action = audit.action ?? (!next ? 'delete' : current ? 'update' : 'create');
      const after = toView(stored);
      await tx.featureFlagAudit.create({
        data: {
          flagName: name,
          action,
          actor: audit.actor,
          correlationId: audit.correlationId,
          before: this.json(toView(current)),
          after: this.json(audit.note && after ? { ...after, rolloutPlan: audit.note } : after),
        },
      });
      await alongside?.(tx, current);
      return stored;
    }, TRANSACTION_OPTIONS);
  }

  audit(name: string, limit = 500) {
    return this.prisma.featureFlagAudit.findMany({
      where: { flagName: name },
      orderBy: { id: 'desc' },
      take: limit,
    });
  }
}
