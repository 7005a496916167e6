/*
 * The job queues a user would pick instead, run end to end on the same PostgreSQL as the
 * project in the same run: enqueue N no-op jobs, process them all. Each gets its own
 * schema, dropped afterwards. Settings as in ../shared/toolchain.md (the fast ones, not the defaults).
 */
import { Client } from 'pg';
import { makeWorkerUtils, run } from 'graphile-worker';

const SLICE = 1000;

export interface PeerRun {
  ms: number;
  itemsPerSecond: number;
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

const silent = () => () => undefined;
const quietLogger = {
  scope: () => quietLogger,
  error: silent(),
  warn: silent(),
  info: silent(),
  debug: silent(),
};

/** graphile-worker 0.18 with its performance settings: concurrency 24, pool 25, local queue 500, no batch delays. */
export async function graphileWorker(url: string, n: number): Promise<PeerRun> {
  const schema = `gw_bench_${process.pid}_${Date.now()}`;
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const { Logger } = await import('graphile-worker');
  const logger = new Logger(() => () => undefined);
  const preset = {
    worker: {
      connectionString: url,
      schema,
      concurrentJobs: 24,
      maxPoolSize: 25,
      pollInterval: 100,
      localQueue: { size: 500 },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    },
  };
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger });
  await utils.migrate();
  const runner = await run({
    preset,
    logger,
    noHandleSignals: true,
    taskList: {
      noop: async () => {
        done += 1;
        if (done === n) finish();
      },
    },
  });
  const started = performance.now();
  for (let i = 0; i < n; i += SLICE)
    await utils.addJobs(
      Array.from({ length: Math.min(SLICE, n - i) }, (_, k) => ({
        identifier: 'noop',
        payload: { n: i + k },
      })),
    );
  await finished;
  const ms = performance.now() - started;
  await runner.stop();
  await utils.release();
  await dropSchema(url, schema);
  void quietLogger;
  return { ms, itemsPerSecond: (n / ms) * 1000 };
}

/** pg-boss 12: `insert` in slices of 1,000, `work` with batchSize 500, localConcurrency 2, fetching without pause while batches come back full. */
export async function pgBoss(url: string, n: number): Promise<PeerRun> {
  const schema = `pgboss_bench_${process.pid}_${Date.now()}`;
  // pg-boss 12 is ESM only; a real dynamic import (TypeScript would turn `import()` into require here).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the only way to a native import() from CommonJS
  const load = new Function('s', 'return import(s)') as (s: string) => Promise<typeof import('pg-boss')>;
  const { PgBoss } = (await load('pg-boss')) as unknown as { PgBoss: new (o: object) => any };
  const boss = new PgBoss({ connectionString: url, schema, max: 10 });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.createQueue('noop');
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await boss.work(
    'noop',
    { batchSize: 500, localConcurrency: 2, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true },
    async (jobs: unknown[]) => {
      done += jobs.length;
      if (done >= n) finish();
    },
  );
  const started = performance.now();
  for (let i = 0; i < n; i += SLICE)
    await boss.insert(
      'noop',
      Array.from({ length: Math.min(SLICE, n - i) }, (_, k) => ({ data: { n: i + k } })),
    );
  await finished;
  const ms = performance.now() - started;
  await boss.stop({ graceful: false, wait: true });
  await dropSchema(url, schema);
  return { ms, itemsPerSecond: (n / ms) * 1000 };
}
