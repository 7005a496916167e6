/* Benchmarks (npm run bench [-- --quick]). Prints a table and writes JSON to bench/results/. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rawBookkeeping } from './lib/baseline';
import { connectSocket, peakRssMb, request, ROOT, startServer, tokenFor } from './lib/harness';
import { percentile, printTable, round, Row } from './lib/stats';

const quick = process.argv.includes('--quick');
const LARGE = quick ? 20_000 : 100_000;

async function runBatch(
  baseUrl: string,
  userId: string,
  body: object,
): Promise<{ ms: number; batch: any; eventLatencies: number[] }> {
  const token = tokenFor(userId);
  const socket = await connectSocket(baseUrl, token);
  const eventLatencies: number[] = [];
  socket.on('batch-progress', (e: { at: string }) => eventLatencies.push(Date.now() - Date.parse(e.at)));
  const started = performance.now();
  const done = new Promise<any>((resolve) => socket.on('batch-complete', resolve));
  const res = await request(baseUrl, 'POST', '/batches', token, body);
  if (res.status !== 202) throw new Error(`POST /batches: ${res.status} ${JSON.stringify(res.body)}`);
  const batch = await done;
  const ms = performance.now() - started;
  socket.close();
  return { ms, batch, eventLatencies };
}

async function loadLatencies(
  baseUrl: string,
  token: string,
  url: string,
  seconds: number,
  clients = 20,
): Promise<number[]> {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const res = await request(baseUrl, 'GET', url, token);
        if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return latencies;
}

const echo = (n: number) => Array.from({ length: n }, (_, i) => ({ n: i }));
const papers = (from: number, to: number, tag: string) =>
  Array.from({ length: to - from }, (_, k) => ({
    title: `Bench paper ${tag} ${from + k}`,
    doi: `10.4242/bench-${from + k}`,
    year: 2020,
  }));

async function main(): Promise<void> {
  const rows: Row[] = [];
  const results: Record<string, unknown> = {};

  // 1. Engine throughput (and 7. memory) against the raw baseline of the same run.
  const raw10k = rawBookkeeping(10_000);
  const rawLarge = rawBookkeeping(LARGE);
  let server = await startServer();
  // Warm-up (not measured): JIT, prepared statements and lazily loaded modules of a cold server.
  await runBatch(server.baseUrl, 'bench-warmup', {
    operation: 'diagnostics.echo',
    items: echo(5_000),
    options: { chunkSize: 500 },
  });
  const t10k = await runBatch(server.baseUrl, 'bench-a', {
    operation: 'diagnostics.echo',
    items: echo(10_000),
    options: { chunkSize: 500 },
  });
  const tLarge = await runBatch(server.baseUrl, 'bench-b', {
    operation: 'diagnostics.echo',
    items: echo(LARGE),
    options: { chunkSize: 500 },
  });
  const peak = peakRssMb(server.child.pid as number);
  for (const [label, t, raw, n] of [
    ['10k', t10k, raw10k, 10_000],
    [`${LARGE / 1000}k`, tLarge, rawLarge, LARGE],
  ] as const) {
    const ips = (n / t.ms) * 1000;
    results[`throughput_${label}`] = { ms: t.ms, itemsPerSecond: ips, rawItemsPerSecond: raw.itemsPerSecond };
    rows.push({
      benchmark: `1. engine throughput, ${label} echo items (POST → batch-complete)`,
      measured: `${Math.round(ips)} items/s`,
      baseline: `${Math.round(raw.itemsPerSecond)} items/s raw`,
      ratio: `${round(ips / raw.itemsPerSecond, 2)}×`,
      target: '≥ 0.5× raw',
      met: ips / raw.itemsPerSecond >= 0.5,
    });
  }
  results.peakRssMb = peak;
  rows.push({
    benchmark: `7. server peak RSS through the ${LARGE / 1000}k batch`,
    measured: `${round(peak)} MB`,
    baseline: '',
    ratio: '',
    target: '≤ 250 MB',
    met: peak <= 250,
  });

  // 2. Real writes: 10k papers.import, half new DOIs, half updates.
  await runBatch(server.baseUrl, 'bench-p', {
    operation: 'papers.import',
    items: papers(0, 5_000, 'first'),
    options: { chunkSize: 500 },
  });
  const tPapers = await runBatch(server.baseUrl, 'bench-p', {
    operation: 'papers.import',
    items: papers(0, 10_000, 'second'),
    options: { chunkSize: 500 },
  });
  const papersIps = (10_000 / tPapers.ms) * 1000;
  results.papers = { ms: tPapers.ms, itemsPerSecond: papersIps };
  rows.push({
    benchmark: '2. papers.import 10k (5k updates + 5k new)',
    measured: `${Math.round(papersIps)} items/s`,
    baseline: `${Math.round(raw10k.itemsPerSecond)} items/s raw`,
    ratio: `${round(papersIps / raw10k.itemsPerSecond, 2)}×`,
    target: '≥ 30,000 items/s',
    met: papersIps >= 30_000,
  });

  // 4. Create latency: POST 10k items, p50 of 10 (each run on an idle server).
  const createMs: number[] = [];
  for (let i = 0; i < (quick ? 4 : 10); i++) {
    const token = tokenFor('bench-create');
    const socket = await connectSocket(server.baseUrl, token);
    const done = new Promise((resolve) => socket.on('batch-complete', resolve));
    const t = performance.now();
    const res = await request(server.baseUrl, 'POST', '/batches', token, {
      operation: 'diagnostics.echo',
      items: echo(10_000),
      options: { chunkSize: 500 },
    });
    createMs.push(performance.now() - t);
    if (res.status !== 202) throw new Error(`create: ${res.status}`);
    await done;
    socket.close();
  }
  results.createMs = createMs;
  rows.push({
    benchmark: '4. POST /batches with 10k items, p50',
    measured: `${round(percentile(createMs, 50))} ms`,
    baseline: '',
    ratio: '',
    target: '≤ 300 ms',
    met: percentile(createMs, 50) <= 300,
  });

  // 3. API under load: 20 clients, idle versus during a large batch.
  const reader = tokenFor('bench-a');
  const idle = {
    batch: await loadLatencies(server.baseUrl, reader, `/batches/${t10k.batch.batchId}`, 3),
    health: await loadLatencies(server.baseUrl, reader, '/health', 3),
  };
  const busyBatch = runBatch(server.baseUrl, 'bench-busy', {
    operation: 'diagnostics.echo',
    items: echo(LARGE),
    options: { chunkSize: 500 },
  });
  await new Promise((r) => setTimeout(r, 300));
  const busy = {
    batch: await loadLatencies(server.baseUrl, reader, `/batches/${t10k.batch.batchId}`, 3),
    health: await loadLatencies(server.baseUrl, reader, '/health', 3),
  };
  await busyBatch;
  for (const key of ['batch', 'health'] as const) {
    const [i99, b99] = [percentile(idle[key], 99), percentile(busy[key], 99)];
    results[`api_${key}`] = {
      idleP50: percentile(idle[key], 50),
      idleP99: i99,
      busyP50: percentile(busy[key], 50),
      busyP99: b99,
    };
    rows.push({
      benchmark: `3. GET ${key === 'batch' ? '/batches/:id' : '/health'}, 20 clients, p50/p99 during a ${LARGE / 1000}k batch`,
      measured: `${round(percentile(busy[key], 50))} / ${round(b99)} ms`,
      baseline: `${round(percentile(idle[key], 50))} / ${round(i99)} ms idle`,
      ratio: `${round(b99 / i99, 2)}× p99`,
      target: 'p99 ≤ 3× idle and ≤ 25 ms',
      met: b99 <= 3 * i99 && b99 <= 25,
    });
  }
  await server.close();

  // 1b. Engine throughput on PostgreSQL (same code, DATABASE_URL=postgresql://…).
  server = await startServer({}, 'postgres');
  await runBatch(server.baseUrl, 'bench-pg-warmup', {
    operation: 'diagnostics.echo',
    items: echo(2_000),
    options: { chunkSize: 500 },
  });
  const pg = await runBatch(server.baseUrl, 'bench-pg', {
    operation: 'diagnostics.echo',
    items: echo(quick ? 10_000 : 50_000),
    options: { chunkSize: 500 },
  });
  await server.close();
  const pgItems = quick ? 10_000 : 50_000;
  const pgIps = (pgItems / pg.ms) * 1000;
  results.throughput_postgres = { items: pgItems, ms: pg.ms, itemsPerSecond: pgIps };
  rows.push({
    benchmark: `1b. engine throughput on PostgreSQL 15, ${pgItems / 1000}k echo items`,
    measured: `${Math.round(pgIps)} items/s`,
    baseline: `${Math.round(rawLarge.itemsPerSecond)} items/s raw SQLite`,
    ratio: `${round(pgIps / rawLarge.itemsPerSecond, 2)}×`,
    target: 'reported beside SQLite',
    met: null,
  });

  // 5. Socket latency: commit → client, every event (no coalescing).
  server = await startServer({ PROGRESS_INTERVAL_MS: '0' });
  const sock = await runBatch(server.baseUrl, 'bench-s', {
    operation: 'diagnostics.echo',
    items: echo(20_000),
    options: { chunkSize: 100 },
  });
  await server.close();
  results.socketLatencyMs = {
    p50: percentile(sock.eventLatencies, 50),
    p99: percentile(sock.eventLatencies, 99),
    events: sock.eventLatencies.length,
  };
  rows.push({
    benchmark: `5. commit → socket client, p50/p99 over ${sock.eventLatencies.length} events`,
    measured: `${round(percentile(sock.eventLatencies, 50))} / ${round(percentile(sock.eventLatencies, 99))} ms`,
    baseline: '',
    ratio: '',
    target: 'p99 ≤ 10 ms',
    met: percentile(sock.eventLatencies, 99) <= 10,
  });

  // 6. Rate-limit overhead: the guard's database statement per request, in process.
  const { rateLimitOverhead } = await import('./rate-limit-overhead');
  const overhead = await rateLimitOverhead(quick ? 500 : 3000);
  results.rateLimitOverheadMs = overhead;
  rows.push({
    benchmark: '6. DB-backed rate-limit guard, cost per request (p50/p99)',
    measured: `${round(overhead.p50, 3)} / ${round(overhead.p99, 3)} ms`,
    baseline: '0 ms without the guard',
    ratio: '',
    target: '≤ 0.5 ms p50',
    met: overhead.p50 <= 0.5,
  });

  const machine = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGb: round(os.totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
    quick,
  };
  console.log(
    `\nMachine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GiB, Node ${machine.node}, ${machine.date}${quick ? ' (quick)' : ''}\n`,
  );
  printTable(rows);
  const out = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const json = JSON.stringify({ machine, rows, results }, null, 2);
  fs.writeFileSync(path.join(out, `bench-${machine.date.replace(/[:.]/g, '-')}.json`), json);
  fs.writeFileSync(path.join(out, 'latest.json'), json);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
