import { Inject, Injectable, Optional } from '@nestjs/common';
import type Redis from 'ioredis';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsPort, ModuleMetrics } from '../../modules/shared/ports';
import { PrismaService } from '../prisma/prisma.service';
import { REDIS } from '../redis/redis.module';

type Metric = Counter<string> | Histogram<string> | Gauge<string>;

/**
 * The standalone service's Prometheus registry (prom-client): Node's default metrics
 * (event-loop lag among them), what the modules report through their MetricsPort, HTTP
 * durations, 429s by policy, and gauges read from the database at scrape time. Labels
 * are low-cardinality only: never a batch or user id.
 */
@Injectable()
export class MetricsService implements MetricsPort {
  readonly registry = new Registry();
  private readonly moduleMetrics: Record<keyof ModuleMetrics, Metric>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly rateLimited: Counter<'policy'>;

  constructor(prisma: PrismaService, @Optional() @Inject(REDIS) redis: Redis | null) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.rateLimited = new Counter({
      name: 'rate_limit_refusals_total',
      help: '429 answers by the policy that refused',
      labelNames: ['policy'],
      registers,
    });
    this.moduleMetrics = {
      rate_limit_refusals_total: this.rateLimited,
      batch_items_settled_total: new Counter({
        name: 'batch_items_settled_total',
        help: 'Item outcomes recorded, by operation and outcome (success, failed for good, retried later)',
        labelNames: ['operation', 'outcome'],
        registers,
      }),
      batch_chunk_duration_seconds: new Histogram({
        name: 'batch_chunk_duration_seconds',
        help: 'Time from claiming a chunk to recording its outcomes',
        labelNames: ['operation'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
      batch_engine_seconds_total: new Counter({
        name: 'batch_engine_seconds_total',
        help: 'Seconds the batch engine spent storing, claiming, running, recording and committing, and extra worker loops stood aside for the API (yielding)',
        labelNames: ['phase'],
        registers,
      }),
      batch_lease_lost_items_total: new Counter({
        name: 'batch_lease_lost_items_total',
        help: 'Outcomes not written because the chunk lease had expired and passed to another worker',
        labelNames: ['operation'],
        registers,
      }),
      batch_transaction_retries_total: new Counter({
        name: 'batch_transaction_retries_total',
        help: 'Chunk transactions tried again because the database was busy (a lock, a deadlock victim) or unavailable',
        labelNames: ['failure'],
        registers,
      }),
      feature_flag_evaluations_total: new Counter({
        name: 'feature_flag_evaluations_total',
        help: 'Flag evaluations by flag and reason',
        labelNames: ['flag', 'reason'],
        registers,
      }),
      batch_socket_connections: new Gauge({
        name: 'batch_socket_connections',
        help: 'Open sockets on the /batches namespace of this process',
        registers,
      }),
    };
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    const items = new Gauge({
      name: 'batch_items',
      help: 'Items of unfinished batches by status (queued includes waiting for retry; waiting_for_limit: held by an operation limit)',
      labelNames: ['status'],
      registers,
      collect: async () => {
        // Per unfinished batch: items not settled, and those in flight (queued inside a chunk's
        // range). Items of an operation with limits (it has slot rows) that are neither in flight
        // nor paused wait for a slot or the rate window.
        const [row] = await prisma.$queryRawUnsafe<Record<'remaining' | 'inFlight' | 'waiting', unknown>[]>(
          `SELECT COALESCE(SUM(x."remaining"), 0) AS "remaining", COALESCE(SUM(x."inFlight"), 0) AS "inFlight",
                  COALESCE(SUM(CASE WHEN x."limited" AND x."status" <> 'paused'
                                    THEN x."remaining" - x."inFlight" ELSE 0 END), 0) AS "waiting"
           FROM (SELECT b."status", b."itemCount" - b."processedCount" - b."cancelledCount" AS "remaining",
                        (SELECT COUNT(*) FROM "BatchChunk" c JOIN "BatchJobItem" i
                           ON i."batchKey" = c."batchKey" AND i."seq" >= c."fromSeq" AND i."seq" <= c."toSeq"
                          WHERE c."batchKey" = b."key" AND i."status" = 'queued') AS "inFlight",
                        EXISTS (SELECT 1 FROM "OperationSlot" s WHERE s."operation" = b."operation") AS "limited"
                 FROM "BatchOperation" b WHERE b."status" IN ('pending', 'processing', 'paused')) x`,
        );
        const inFlight = Number(row?.inFlight ?? 0);
        const waiting = Number(row?.waiting ?? 0);
        items.set({ status: 'queued' }, Number(row?.remaining ?? 0) - inFlight - waiting);
        items.set({ status: 'processing' }, inFlight);
        items.set({ status: 'waiting_for_limit' }, waiting);
      },
    });
    const active = new Gauge({
      name: 'batch_active_batches',
      help: 'Batches not finished, by status',
      labelNames: ['status'],
      registers,
      collect: async () => {
        const rows = await prisma.$queryRawUnsafe<{ status: string; n: unknown }[]>(
          `SELECT "status", COUNT(*) AS "n" FROM "BatchOperation"
           WHERE "status" IN ('pending', 'processing', 'paused') GROUP BY "status"`,
        );
        active.reset();
        for (const status of ['pending', 'processing', 'paused'])
          active.set({ status }, Number(rows.find((r) => r.status === status)?.n ?? 0));
      },
    });
    if (redis)
      new Gauge({
        name: 'redis_up',
        help: '1 while the shared Redis connection is ready, 0 while it is down',
        registers,
        collect() {
          this.set(redis.status === 'ready' ? 1 : 0);
        },
      });
  }

  increment<K extends keyof ModuleMetrics>(name: K, labels: ModuleMetrics[K], value = 1): void {
    const metric = this.moduleMetrics[name];
    if (metric instanceof Counter || metric instanceof Gauge)
      metric.inc(labels as Record<string, string>, value);
  }

  observe<K extends keyof ModuleMetrics>(name: K, labels: ModuleMetrics[K], value: number): void {
    const metric = this.moduleMetrics[name];
    if (metric instanceof Histogram) metric.observe(labels as Record<string, string>, value);
  }
}
