/* Memory with many open batches: U users × S sockets each, every user with one batch of N items at once. */
import type { Socket } from 'socket.io-client';
import { connectSocket, currentRssMb, peakRssMb, request, startServer, tokenFor } from './harness';

export interface ManyBatchesRun {
  users: number;
  socketsPerUser: number;
  itemsPerBatch: number;
  /** Server RSS after start and a warm-up batch. */
  idleMb: number;
  /** Server RSS with every socket open, before the batches. */
  socketsMb: number;
  /** Server peak RSS (VmHWM) through all the batches. */
  peakMb: number;
  /** V8 heap in use (nodejs_heap_size_used_bytes) with the sockets open, at the end, and 3 s later. */
  heapUsedMb: { sockets: number; end: number; settled: number };
  ms: number;
  itemsPerSecond: number;
}

/** The server's V8 heap in use, from its /metrics. */
async function heapUsedMb(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
}

export async function manyOpenBatches(
  users: number,
  socketsPerUser: number,
  itemsPerBatch: number,
  backend: 'sqlite' | 'postgres' = 'sqlite',
  /** POST one batch after another (every batch still open at once) instead of all requests at once. */
  oneRequestAtATime = false,
): Promise<ManyBatchesRun> {
  const server = await startServer({}, backend);
  const sockets: Socket[] = [];
  try {
    const pid = server.child.pid as number;
    const warm = tokenFor('bench-many-warmup');
    const warmSocket = await connectSocket(server.baseUrl, warm);
    const warmed = new Promise((resolve) => warmSocket.on('batch-complete', resolve));
    await request(server.baseUrl, 'POST', '/batches', warm, {
      operation: 'diagnostics.echo',
      items: Array.from({ length: 1000 }, (_, n) => ({ n })),
    });
    await warmed;
    warmSocket.close();
    const idleMb = currentRssMb(pid);
    const tokens = Array.from({ length: users }, (_, u) => tokenFor(`bench-many-${u}`));
    // Connect in waves of 50, as many clients arriving at once would.
    const wanted = tokens.flatMap((token) => Array.from({ length: socketsPerUser }, () => token));
    for (let i = 0; i < wanted.length; i += 50)
      sockets.push(
        ...(await Promise.all(wanted.slice(i, i + 50).map((t) => connectSocket(server.baseUrl, t)))),
      );
    const socketsMb = currentRssMb(pid);
    const heapAtSockets = await heapUsedMb(server.baseUrl);
    const finished = tokens.map(
      (_, u) => new Promise((resolve) => sockets[u * socketsPerUser].on('batch-complete', resolve)),
    );
    const started = performance.now();
    const post = async (token: string) => {
      const res = await request(server.baseUrl, 'POST', '/batches', token, {
        operation: 'diagnostics.echo',
        items: Array.from({ length: itemsPerBatch }, (_, n) => ({ n })),
      });
      if (res.status !== 202) throw new Error(`POST /batches: ${res.status} ${JSON.stringify(res.body)}`);
    };
    if (oneRequestAtATime) for (const token of tokens) await post(token);
    else await Promise.all(tokens.map(post));
    await Promise.all(finished);
    const ms = performance.now() - started;
    const heapAtEnd = await heapUsedMb(server.baseUrl);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const heapSettled = await heapUsedMb(server.baseUrl);
    return {
      heapUsedMb: { sockets: heapAtSockets, end: heapAtEnd, settled: heapSettled },
      users,
      socketsPerUser,
      itemsPerBatch,
      idleMb,
      socketsMb,
      peakMb: peakRssMb(pid),
      ms,
      itemsPerSecond: ((users * itemsPerBatch) / ms) * 1000,
    };
  } finally {
    for (const socket of sockets) socket.close();
    await server.close();
  }
}
