import { Injectable, OnApplicationBootstrap, OnApplicationShutdown, Inject } from '@nestjs/common';
import { Clock } from '../../shared/clock';
import { ModuleLogger } from '../../shared/module-logger';
import { FeatureFlagsService } from '../feature-flags.service';
import { FEATURE_FLAGS_OPTIONS, type FeatureFlagsModuleOptions } from '../feature-flags.options';
import { emptySamples, latencyBucket, type Samples } from './rollout-plan';
import { RolloutPlansRepository } from './rollout-plans.repository';

/** What a module route answered: its status, how long it took, and the module's error code if any. */
export interface RequestSignal {
  status: number;
  durationMs: number;
  code?: string;
}

/**
 * The guards' measurements, taken where they happen in every instance: each answer of a
 * module route (status, latency, database busy) and each settled item of a batch, counted
 * for the cohort of every flag with an active rollout plan (`in`: the flag lets the user
 * in; `out`: the rest), kept in memory for at most a second, then added to the database
 * (FeatureFlagRolloutSample), where the instance that evaluates a plan sums every
 * instance's rows. While no plan is active, recording costs one Set lookup.
 */
@Injectable()
export class RolloutSignals implements OnApplicationBootstrap, OnApplicationShutdown {
  private activeFlags: ReadonlySet<string> = new Set();
  private pending = new Map<string, Record<'in' | 'out', Samples>>();
  private timer: NodeJS.Timeout | null = null;
  private readonly logger: ModuleLogger;

  constructor(
    private readonly flags: FeatureFlagsService,
    private readonly repository: RolloutPlansRepository,
    private readonly clock: Clock,
    @Inject(FEATURE_FLAGS_OPTIONS) private readonly options: FeatureFlagsModuleOptions,
    logger: ModuleLogger,
  ) {
    this.logger = logger.forContext(RolloutSignals.name);
  }

  onApplicationBootstrap(): void {
    const every = Math.min(1000, Math.max(50, Math.floor((this.options.rolloutEvaluationMs ?? 60_000) / 2)));
    this.timer = setInterval(() => void this.flush(), every);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /** The flags whose plans are active (the evaluator keeps this current). */
  watch(flags: Iterable<string>): void {
    this.activeFlags = new Set(flags);
  }

  get watching(): boolean {
    return this.activeFlags.size > 0;
  }

  /** One answer of a module route to `userId`. */
  request(userId: string, signal: RequestSignal): void {
    if (this.activeFlags.size === 0) return;
    this.recordLater(userId, (s) => {
      s.requests += 1;
      if (signal.status >= 500) s.serverErrors += 1;
      if (signal.code === 'DATABASE_BUSY' || signal.code === 'DATABASE_UNAVAILABLE') s.databaseBusy += 1;
      s.latency[latencyBucket(signal.durationMs)] += 1;
    });
  }

  /** Items of `userId`'s batch that settled: how many, and how many failed (not counting invalid items). */
  items(userId: string, settled: number, failed: number): void {
    if (this.activeFlags.size === 0 || settled === 0) return;
    this.recordLater(userId, (s) => {
      s.itemsSettled += settled;
      s.itemsFailed += failed;
    });
  }

  /** Adds what was measured to the database now (the evaluator calls it before reading). */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const at = this.clock.now();
    const rows = [...batch].flatMap(([flagName, cohorts]) =>
      (['in', 'out'] as const).map((cohort) => ({ flagName, cohort, at, samples: cohorts[cohort] })),
    );
    await this.repository.addSamples(rows).catch((error: unknown) => {
      // Measurements are best effort: a database outage loses at most this second's counts.
      this.logger.warn('Rollout guard samples not stored', { error: String(error) });
    });
  }

  private recordLater(userId: string, add: (s: Samples) => void): void {
    // The cohort comes from the flag cache, at once while it is fresh (the request path's
    // case); otherwise after reading it again, and a failed read drops the sample.
    const found: Samples[] = [];
    for (const flag of this.activeFlags) {
      const lets = this.flags.letsNow(flag, userId);
      if (lets === undefined) {
        this.record(userId, add).catch(() => undefined);
        return;
      }
      found.push(this.cohorts(flag)[lets ? 'in' : 'out']);
    }
    for (const samples of found) add(samples);
  }

  private cohorts(flag: string): Record<'in' | 'out', Samples> {
    let cohorts = this.pending.get(flag);
    if (!cohorts) this.pending.set(flag, (cohorts = { in: emptySamples(), out: emptySamples() }));
    return cohorts;
  }

  private async record(userId: string, add: (s: Samples) => void): Promise<void> {
    for (const flag of this.activeFlags) {
      const cohort = (await this.flags.lets(flag, userId)) ? 'in' : 'out';
      add(this.cohorts(flag)[cohort]);
    }
  }
}
