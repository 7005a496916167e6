import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type FeatureFlagRolloutPlan, PrismaClient } from '@prisma/client';
import { PRISMA_CLIENT } from '../../shared/ports';
import { addSamples, emptySamples, type Samples } from './rollout-plan';

/** The host's client; the standalone service's PostgreSQL client brings its own `dbNull`. */
type FlagsPrisma = PrismaClient & { dbNull?: unknown };
type Tx = Prisma.TransactionClient;

export type PlanRow = FeatureFlagRolloutPlan;

/** Samples older than this are deleted by the evaluator (a step longer than a week still reads a week). */
export const SAMPLE_RETENTION_MS = 7 * 86_400_000;

/** All SQL of rollout plans and their guard samples. */
@Injectable()
export class RolloutPlansRepository {
  constructor(@Inject(PRISMA_CLIENT) private readonly prisma: FlagsPrisma) {}

  find(flagName: string, tx: Tx | FlagsPrisma = this.prisma): Promise<PlanRow | null> {
    return tx.featureFlagRolloutPlan.findUnique({ where: { flagName } });
  }

  findAll(): Promise<PlanRow[]> {
    return this.prisma.featureFlagRolloutPlan.findMany({ orderBy: { flagName: 'asc' } });
  }

  /**
   * Takes (or keeps) the lease on an active plan for `owner` until `until`: true when this
   * instance may act on it now. Two instances never both hold it.
   */
  async lease(flagName: string, owner: string, now: number, until: number): Promise<boolean> {
    const { count } = await this.prisma.featureFlagRolloutPlan.updateMany({
      where: {
        flagName,
        state: 'active',
        OR: [{ leaseOwner: null }, { leaseOwner: owner }, { leaseExpiresAt: { lt: BigInt(now) } }],
      },
      data: { leaseOwner: owner, leaseExpiresAt: BigInt(until) },
    });
    return count === 1;
  }

  /** Lets the lease go (shutdown): another instance takes over at its next evaluation. */
  async release(owner: string): Promise<void> {
    await this.prisma.featureFlagRolloutPlan.updateMany({
      where: { leaseOwner: owner },
      data: { leaseOwner: null, leaseExpiresAt: 0n },
    });
  }

  /** Stores measurements of one instance (rows with nothing in them are not written). */
  async addSamples(rows: Array<{ flagName: string; cohort: 'in' | 'out'; at: number; samples: Samples }>) {
    const data = rows
      .filter(({ samples: s }) => s.requests + s.itemsSettled > 0)
      .map(({ flagName, cohort, at, samples }) => ({
        flagName,
        cohort,
        at: BigInt(at),
        requests: samples.requests,
        serverErrors: samples.serverErrors,
        databaseBusy: samples.databaseBusy,
        itemsSettled: samples.itemsSettled,
        itemsFailed: samples.itemsFailed,
        latency: samples.latency,
      }));
    if (data.length > 0) await this.prisma.featureFlagRolloutSample.createMany({ data });
  }

  /** Every instance's measurements of the flag's cohorts since `since` (epoch ms), summed. */
  async samplesSince(flagName: string, since: number): Promise<Record<'in' | 'out', Samples>> {
    const rows = await this.prisma.featureFlagRolloutSample.findMany({
      where: { flagName, at: { gte: BigInt(since) } },
      select: {
        cohort: true,
        requests: true,
        serverErrors: true,
        databaseBusy: true,
        itemsSettled: true,
        itemsFailed: true,
        latency: true,
      },
    });
    const out = { in: emptySamples(), out: emptySamples() };
    for (const row of rows) {
      const latency = Array.isArray(row.latency) ? row.latency.map(Number) : [];
      addSamples(out[row.cohort === 'in' ? 'in' : 'out'], { ...row, latency });
    }
    return out;
  }

  async pruneSamples(before: number): Promise<void> {
    await this.prisma.featureFlagRolloutSample.deleteMany({ where: { at: { lt: BigInt(before) } } });
  }
}
