import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { FeatureFlag, Prisma } from '@prisma/client';
import { Clock } from '../../shared/clock';
import { AppException } from '../../shared/errors/app-exception';
import { ModuleLogger } from '../../shared/module-logger';
import type { ModuleUser } from '../../shared/ports';
import { FeatureFlagsService, toFlagView } from '../feature-flags.service';
import { FEATURE_FLAGS_OPTIONS, type FeatureFlagsModuleOptions } from '../feature-flags.options';
import type { FlagWrite } from '../feature-flags.repository';
import {
  decide,
  type GuardName,
  type GuardReading,
  type PlanState,
  readGuards,
  type RolloutPlanBody,
  stepRollout,
  stepSeconds,
  type TransitionAction,
} from './rollout-plan';
import { type PlanRow, RolloutPlansRepository, SAMPLE_RETENTION_MS } from './rollout-plans.repository';
import { RolloutSignals } from './rollout-signals';

/** The actor of every transition a plan makes by itself. */
export const PLAN_ACTOR = 'rollout-plan';
/** History entries kept per plan (the audit trail keeps every one). */
const MAX_HISTORY = 200;

export interface HistoryEntry {
  /** Position in the plan's history (rises by 1 per entry, also past MAX_HISTORY). */
  n: number;
  action: TransitionAction;
  step: number;
  rollout: number;
  enabled: boolean;
  actor: string;
  at: string;
  guards?: Partial<Record<GuardName, GuardReading>>;
  reason?: string;
}

/** `flag-rollout` (admins' sockets) and what other modules hear through FlagRolloutEvents. */
export interface FlagRolloutEvent {
  flag: string;
  step: number;
  rollout: number;
  action: 'advanced' | 'rolled_back' | 'halted' | 'completed';
  guards: Partial<Record<GuardName, GuardReading>>;
  at: string;
  reason?: string;
}

/**
 * The transitions of rollout plans inside this process: every instance emits each
 * transition once, whichever instance made it (it reads the plans' history every
 * evaluation interval). The batch gateway sends them to admins' sockets as `flag-rollout`.
 */
@Injectable()
export class FlagRolloutEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  on(listener: (event: FlagRolloutEvent) => void): () => void {
    this.emitter.on('rollout', listener);
    return () => this.emitter.off('rollout', listener);
  }

  emit(event: FlagRolloutEvent): void {
    this.emitter.emit('rollout', event);
  }
}

export type PlanGuardView = GuardReading & { rest: { value: number | null; samples: number } };

export interface RolloutPlanView {
  flag: string;
  state: PlanState;
  step: number;
  rollout: number;
  steps: RolloutPlanBody['steps'];
  minStepSeconds: number[];
  guards: Partial<Record<GuardName, PlanGuardView>>;
  onBreach: 'previous' | 'off';
  stepStartedAt: string;
  /** When the step's minimum time is over (the plan advances at the first evaluation after it with every guard holding). */
  stepMinEndsAt: string;
  history: HistoryEntry[];
  createdAt: string;
  updatedAt: string;
  updatedBy: string | null;
}

/**
 * Guarded rollouts: a plan per flag moves the flag through its steps by itself, every
 * ROLLOUT_EVALUATION_MS, on the measurements of the flag's own cohort from every instance
 * (RolloutSignals), and rolls it back at once when a guard is breached with enough
 * samples. One instance acts on a plan at a time (a lease on its row, renewed each
 * evaluation, fenced in the transaction of every change); a restart loses nothing (the
 * plan, its step and its clock are rows). Every transition is audited with the values
 * that decided it and emitted to every instance's listeners.
 */
@Injectable()
export class RolloutPlansService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly instance = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly seen = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private started = false;
  private failing = false;
  private lastPrune = 0;
  private readonly logger: ModuleLogger;

  constructor(
    private readonly repository: RolloutPlansRepository,
    private readonly flags: FeatureFlagsService,
    private readonly signals: RolloutSignals,
    private readonly events: FlagRolloutEvents,
    private readonly clock: Clock,
    @Inject(FEATURE_FLAGS_OPTIONS) private readonly options: FeatureFlagsModuleOptions,
    logger: ModuleLogger,
  ) {
    this.logger = logger.forContext(RolloutPlansService.name);
  }

  private get intervalMs(): number {
    return this.options.rolloutEvaluationMs ?? 60_000;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await this.repository.release(this.instance).catch(() => undefined);
  }

  /** Creates or replaces the flag's plan and puts the flag on its first step (audited). */
  async put(actor: ModuleUser, name: string, body: RolloutPlanBody): Promise<RolloutPlanView> {
    const now = this.clock.now();
    const first = body.steps[0];
    const entry = (n: number): HistoryEntry => ({
      n,
      action: 'started',
      step: 0,
      rollout: stepRollout(first),
      enabled: true,
      actor: actor.userId,
      at: new Date(now).toISOString(),
    });
    await this.flags.changeForPlan(
      actor.userId,
      name,
      (current) => settingOf(requireFlag(current), { enabled: true, rollout: stepRollout(first) }),
      { action: 'rollout-plan.started', note: { step: 0, rollout: stepRollout(first), plan: body } },
      async (tx) => {
        const existing = await this.repository.find(name, tx);
        const n = existing ? lastN(existing) + 1 : 1;
        const data = {
          plan: body as unknown as Prisma.InputJsonValue,
          state: 'active',
          step: 0,
          stepStartedAt: BigInt(now),
          history: [...historyOf(existing), entry(n)].slice(-MAX_HISTORY) as unknown as Prisma.InputJsonValue,
          leaseOwner: null,
          leaseExpiresAt: 0n,
          updatedBy: actor.userId,
        };
        await tx.featureFlagRolloutPlan.upsert({
          where: { flagName: name },
          create: { flagName: name, ...data },
          update: data,
        });
      },
    );
    this.signals.watch(new Set([...this.watchedFlags(), name]));
    return this.get(name);
  }

  async get(name: string): Promise<RolloutPlanView> {
    const row = await this.repository.find(name);
    if (!row) throw AppException.notFound('Rollout plan');
    return this.view(row);
  }

  pause(actor: ModuleUser, name: string): Promise<RolloutPlanView> {
    return this.adminTransition(actor, name, 'paused', ['active'], 'paused');
  }

  resume(actor: ModuleUser, name: string): Promise<RolloutPlanView> {
    return this.adminTransition(actor, name, 'resumed', ['paused', 'halted'], 'active');
  }

  abort(actor: ModuleUser, name: string): Promise<RolloutPlanView> {
    return this.adminTransition(actor, name, 'aborted', ['active', 'paused', 'halted'], 'aborted');
  }

  /** Deletes the plan (audited); the flag stays where it is. */
  async remove(actor: ModuleUser, name: string): Promise<void> {
    const row = await this.repository.find(name);
    if (!row) throw AppException.notFound('Rollout plan');
    await this.flags.changeForPlan(
      actor.userId,
      name,
      (current) => settingOf(requireFlag(current), {}),
      { action: 'rollout-plan.deleted', note: { step: row.step, state: row.state } },
      async (tx) => {
        await tx.featureFlagRolloutPlan.deleteMany({ where: { flagName: name } });
      },
    );
  }

  /** One evaluation of every plan, by this instance (also called by tests through the timer). */
  tick(): Promise<void> {
    if (!this.ticking) this.ticking = this.evaluateAll().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async adminTransition(
    actor: ModuleUser,
    name: string,
    action: 'paused' | 'resumed' | 'aborted',
    from: PlanState[],
    to: PlanState,
  ): Promise<RolloutPlanView> {
    const now = this.clock.now();
    await this.flags.changeForPlan(
      actor.userId,
      name,
      (current) => settingOf(requireFlag(current), {}),
      { action: `rollout-plan.${action}`, note: { action } },
      async (tx, current) => {
        const row = await this.repository.find(name, tx);
        if (!row) throw AppException.notFound('Rollout plan');
        if (!from.includes(row.state as PlanState))
          throw AppException.invalidState(`The rollout plan is ${row.state}; it cannot be ${action}`);
        const flag = current ? toFlagView(current) : null;
        const entry: HistoryEntry = {
          n: lastN(row) + 1,
          action,
          step: row.step,
          rollout: flag?.rollout ?? 0,
          enabled: flag?.enabled ?? false,
          actor: actor.userId,
          at: new Date(now).toISOString(),
        };
        await tx.featureFlagRolloutPlan.update({
          where: { flagName: name },
          data: {
            state: to,
            // A resumed step starts again: its guards count from now.
            ...(action === 'resumed' ? { stepStartedAt: BigInt(now) } : {}),
            history: [...historyOf(row), entry].slice(-MAX_HISTORY) as unknown as Prisma.InputJsonValue,
            leaseOwner: null,
            leaseExpiresAt: 0n,
            updatedBy: actor.userId,
          },
        });
      },
    );
    return this.get(name);
  }

  private watchedFlags(): string[] {
    return [...this.seen.keys()];
  }

  private async evaluateAll(): Promise<void> {
    try {
      await this.signals.flush();
      const plans = await this.repository.findAll();
      this.signals.watch(plans.filter((p) => p.state === 'active').map((p) => p.flagName));
      this.announce(plans);
      const now = this.clock.now();
      for (const plan of plans.filter((p) => p.state === 'active')) {
        if (!(await this.repository.lease(plan.flagName, this.instance, now, now + 3 * this.intervalMs)))
          continue;
        await this.evaluate(plan);
      }
      if (now - this.lastPrune > 60_000) {
        this.lastPrune = now;
        await this.repository.pruneSamples(now - SAMPLE_RETENTION_MS);
      }
      if (this.failing) this.logger.info('Rollout plans are evaluated again');
      this.failing = false;
    } catch (error) {
      // A database outage must not stop the process: the plans wait, nothing moves.
      if (!this.failing) this.logger.warn('Rollout plans could not be evaluated', { error: String(error) });
      this.failing = true;
    }
  }

  /** Emits, once per instance, the plans' transitions this instance has not told yet. */
  private announce(plans: PlanRow[]): void {
    for (const plan of plans) {
      const history = historyOf(plan);
      const told = this.seen.get(plan.flagName);
      this.seen.set(plan.flagName, lastN(plan));
      // At start, what is already there is history, not news.
      if (!this.started || told === undefined) continue;
      for (const entry of history.filter((e) => e.n > told)) {
        const action = socketAction(entry.action);
        if (!action) continue;
        this.events.emit({
          flag: plan.flagName,
          step: entry.step,
          rollout: entry.rollout,
          action,
          guards: entry.guards ?? {},
          at: entry.at,
          ...(entry.reason ? { reason: entry.reason } : {}),
        });
      }
    }
    for (const flag of [...this.seen.keys()])
      if (!plans.some((p) => p.flagName === flag)) this.seen.delete(flag);
    this.started = true;
  }

  private async evaluate(plan: PlanRow): Promise<void> {
    const body = plan.plan as unknown as RolloutPlanBody;
    const startedAt = Number(plan.stepStartedAt);
    const now = this.clock.now();
    const samples = await this.repository.samplesSince(plan.flagName, startedAt);
    const guards = readGuards(body.guards ?? {}, samples.in);
    const decision = decide(body, plan.step, startedAt, now, guards);
    if (decision === 'wait') return;
    const next =
      decision === 'advance'
        ? { step: plan.step + 1, state: 'active' as const, action: 'advanced' as const }
        : decision === 'complete'
          ? { step: plan.step, state: 'completed' as const, action: 'completed' as const }
          : body.onBreach === 'previous' && plan.step > 0
            ? { step: plan.step - 1, state: 'halted' as const, action: 'rolled_back' as const }
            : { step: plan.step, state: 'halted' as const, action: 'rolled_back' as const, off: true };
    const off = 'off' in next;
    const rollout = off ? 0 : stepRollout(body.steps[next.step]);
    const breached = Object.entries(guards)
      .filter(([, r]) => r.status === 'breached')
      .map(([name, r]) => `${name} ${r.value} > ${r.max} (${r.samples} samples)`);
    const reason = next.action === 'rolled_back' ? `Guard breached: ${breached.join(', ')}` : undefined;
    const entry: HistoryEntry = {
      n: lastN(plan) + 1,
      action: next.action,
      step: next.step,
      rollout,
      enabled: !off,
      actor: PLAN_ACTOR,
      at: new Date(now).toISOString(),
      guards,
      ...(reason ? { reason } : {}),
    };
    try {
      await this.flags.changeForPlan(
        PLAN_ACTOR,
        plan.flagName,
        (current) =>
          settingOf(requireFlag(current), next.action === 'completed' ? {} : { enabled: !off, rollout }),
        {
          action: `rollout-plan.${next.action}`,
          note: {
            from: plan.step,
            step: next.step,
            rollout,
            enabled: !off,
            guards,
            ...(reason ? { reason } : {}),
          },
        },
        async (tx) => {
          // Fenced: only while this instance holds the lease and the plan is where it read it.
          const { count } = await tx.featureFlagRolloutPlan.updateMany({
            where: { flagName: plan.flagName, leaseOwner: this.instance, state: 'active', step: plan.step },
            data: {
              state: next.state,
              step: next.step,
              stepStartedAt: BigInt(now),
              history: [...historyOf(plan), entry].slice(-MAX_HISTORY) as unknown as Prisma.InputJsonValue,
              updatedBy: PLAN_ACTOR,
            },
          });
          if (count !== 1) throw new LostPlanLease();
        },
      );
    } catch (error) {
      if (error instanceof LostPlanLease) return;
      throw error;
    }
    this.logger.audit('feature_flag.rollout', {
      flag: plan.flagName,
      action: next.action,
      step: next.step,
      rollout,
      guards,
    });
  }

  private async view(row: PlanRow): Promise<RolloutPlanView> {
    const body = row.plan as unknown as RolloutPlanBody;
    const startedAt = Number(row.stepStartedAt);
    const samples = await this.repository.samplesSince(row.flagName, startedAt);
    const cohort = readGuards(body.guards ?? {}, samples.in);
    const rest = readGuards(body.guards ?? {}, samples.out);
    const guards: Partial<Record<GuardName, PlanGuardView>> = {};
    for (const [name, reading] of Object.entries(cohort) as [GuardName, GuardReading][])
      guards[name] = {
        ...reading,
        rest: { value: rest[name]?.value ?? null, samples: rest[name]?.samples ?? 0 },
      };
    return {
      flag: row.flagName,
      state: row.state as PlanState,
      step: row.step,
      rollout: stepRollout(body.steps[row.step]),
      steps: body.steps,
      minStepSeconds: body.steps.map((_, i) => stepSeconds(body, i)),
      guards,
      onBreach: body.onBreach,
      stepStartedAt: new Date(startedAt).toISOString(),
      stepMinEndsAt: new Date(startedAt + stepSeconds(body, row.step) * 1000).toISOString(),
      history: historyOf(row),
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      updatedBy: row.updatedBy,
    };
  }
}

class LostPlanLease extends Error {}

function historyOf(row: PlanRow | null): HistoryEntry[] {
  return Array.isArray(row?.history) ? (row.history as unknown as HistoryEntry[]) : [];
}

function lastN(row: PlanRow | null): number {
  const history = historyOf(row);
  return history.length === 0 ? 0 : history[history.length - 1].n;
}

function requireFlag(current: FeatureFlag | null): FeatureFlag {
  if (!current) throw AppException.notFound('Feature flag');
  return current;
}

/** The flag as it is, with `change` applied (a plan moves only enabled and rollout). */
function settingOf(current: FeatureFlag, change: { enabled?: boolean; rollout?: number }): FlagWrite {
  const view = toFlagView(current);
  return {
    enabled: change.enabled ?? view.enabled,
    rollout: change.rollout ?? view.rollout,
    whitelist: view.whitelist,
    blacklist: view.blacklist,
    description: view.description,
    metadata: view.metadata as Record<string, unknown> | null,
  };
}

function socketAction(action: TransitionAction): FlagRolloutEvent['action'] | null {
  switch (action) {
    case 'advanced':
    case 'rolled_back':
    case 'completed':
      return action;
    case 'paused':
    case 'aborted':
      return 'halted';
    case 'started':
    case 'resumed':
    case 'halted':
      return null;
  }
}
