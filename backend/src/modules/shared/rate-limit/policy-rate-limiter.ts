import type Redis from 'ioredis';
import type { Clock } from '../clock';
import type { SqlExecutor } from '../database/sql-executor';
import type { EngineDatabase, RateCharge, RateDecision, RateLimiterPort } from '../ports';
import type { PolicyState } from '../rate-limit-headers';
import { RedisWindowStore } from './redis-window-store';
import type { WindowHit } from './window-hit';

/** A named policy: at most `limit` per fixed window of `windowMs`. */
export interface RatePolicy {
  limit: number;
  windowMs: number;
}

/** The modules' policies and their defaults (a host overrides any of them). */
export const DEFAULT_RATE_POLICIES: Record<string, RatePolicy> = {
  BATCH_OPERATIONS: { limit: 10, windowMs: 3_600_000 },
  BATCH_ITEM_PROCESSING: { limit: 100_000, windowMs: 3_600_000 },
  EXPORT: { limit: 20, windowMs: 3_600_000 },
  SOCKET_EVENTS: { limit: 120, windowMs: 60_000 },
};

export interface PolicyRateLimiterOptions {
  database: EngineDatabase;
  clock: Clock;
  policies: Record<string, RatePolicy>;
  /** Charges in Redis (one Lua script) while it is ready; in the database otherwise. */
  redis?: Redis | null;
  /** Told when Redis failed a charge (the database took it). */
  onRedisFailure?: (error: unknown) => void;
  /** True while the host knows Redis to be down (skip it without waiting for a timeout). */
  redisDown?: () => boolean;
}

class Refused extends Error {}

const SWEEP_EVERY_MS = 60_000;

/**
 * The modules' own limiter, their default when a host gives none (the real host's limiter
 * throws per call and has no all-or-nothing call): named fixed windows charged all or
 * nothing, in one database transaction (`RateLimit` table, one conditional upsert per
 * policy, exact under concurrency: N requests against L let exactly L through, on SQLite
 * and PostgreSQL), or in one Lua script in Redis when given. Policies a charge names
 * that are not configured are not limited.
 */
export class PolicyRateLimiter implements RateLimiterPort {
  private readonly redisStore: RedisWindowStore | null;
  private lastSweepAt = 0;

  constructor(private readonly options: PolicyRateLimiterOptions) {
    this.redisStore = options.redis ? new RedisWindowStore(options.redis) : null;
  }

  async consume(identifier: string, charges: RateCharge[]): Promise<RateDecision> {
    const now = this.options.clock.now();
    this.sweepNowAndThen(now);
    const hits = charges.flatMap(({ policy, cost }) => {
      const rule = this.options.policies[policy];
      if (!rule) return [];
      const windowStart = Math.floor(now / rule.windowMs) * rule.windowMs;
      return [
        { identifier, policy, windowStart, expiresAt: windowStart + rule.windowMs, cost, limit: rule.limit },
      ];
    });
    const oversized = hits.filter((h) => h.cost > h.limit);
    const outcome =
      oversized.length > 0
        ? { counts: await this.currentCounts(hits), refused: oversized }
        : await this.charge(hits, now);
    const states = hits.map((hit) => stateOf(hit, outcome.counts.get(hit.policy) ?? 0, now));
    const violated = states.filter((s) => outcome.refused.some((r) => r.policy === s.policy));
    return { allowed: outcome.refused.length === 0, states, violated };
  }

  /** Deletes windows that ended before `now`; returns how many. */
  sweep(now: number): Promise<number> {
    return this.options.database.execute(`DELETE FROM "RateLimit" WHERE "expiresAt" < ?`, now);
  }

  private sweepNowAndThen(now: number): void {
    if (now - this.lastSweepAt < SWEEP_EVERY_MS) return;
    this.lastSweepAt = now;
    void this.sweep(now).catch(() => undefined);
  }

  private async charge(
    hits: WindowHit[],
    now: number,
  ): Promise<{ counts: Map<string, number>; refused: WindowHit[] }> {
    if (this.redisStore && !this.options.redisDown?.()) {
      try {
        const result = await this.redisStore.consume(hits, now);
        const counts = new Map(hits.map((hit, i) => [hit.policy, result.counts[i]] as const));
        const refused = result.allowed ? [] : hits.filter((h, i) => result.counts[i] + h.cost > h.limit);
        return { counts, refused };
      } catch (error) {
        this.options.onRedisFailure?.(error);
      }
    }
    const counts = new Map<string, number>();
    const refused: WindowHit[] = [];
    try {
      await this.options.database.transaction(async (tx) => {
        for (const hit of hits) {
          const count = await tryConsume(tx, hit);
          if (count === null) refused.push(hit);
          else counts.set(hit.policy, count);
        }
        if (refused.length > 0) throw new Refused();
      });
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
    }
    return { counts: refused.length > 0 ? await this.currentCounts(hits) : counts, refused };
  }

  private async currentCounts(hits: WindowHit[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const hit of hits) {
      const rows = await this.options.database.query<{ count: number | bigint }[]>(
        `SELECT "count" FROM "RateLimit" WHERE "identifier" = ? AND "policy" = ? AND "windowStart" = ?`,
        hit.identifier,
        hit.policy,
        hit.windowStart,
      );
      counts.set(hit.policy, rows.length > 0 ? Number(rows[0].count) : 0);
    }
    return counts;
  }
}

/**
 * Adds `cost` to the window's counter in one atomic statement, only if the result stays
 * within `limit`. Returns the new count, or null when refused (the counter unchanged).
 * Concurrent hits serialize on the row, so N hits against a limit L let exactly L through.
 */
async function tryConsume(tx: SqlExecutor, hit: WindowHit): Promise<number | null> {
  const rows = await tx.$queryRawUnsafe<{ count: number | bigint }[]>(
    `INSERT INTO "RateLimit" ("identifier", "policy", "windowStart", "count", "expiresAt")
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT ("identifier", "policy", "windowStart")
     DO UPDATE SET "count" = "RateLimit"."count" + excluded."count"
     WHERE "RateLimit"."count" + excluded."count" <= ?
     RETURNING "count"`,
    hit.identifier,
    hit.policy,
    hit.windowStart,
    hit.cost,
    hit.expiresAt,
    hit.limit,
  );
  return rows.length > 0 ? Number(rows[0].count) : null;
}

function stateOf(hit: WindowHit, count: number, now: number): PolicyState {
  return {
    policy: hit.policy,
    limit: hit.limit,
    remaining: Math.max(0, hit.limit - count),
    resetSeconds: Math.max(1, Math.ceil((hit.expiresAt - now) / 1000)),
    windowSeconds: Math.round((hit.expiresAt - hit.windowStart) / 1000),
  };
}
