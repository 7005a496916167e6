import path from 'node:path';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { enableBatchesOn, spawnServer, type ServerProcess } from '../support/server-process';
import { givenDatabase, TEST_BACKEND, type TempDatabase } from '../support/temp-database';
import { connectedSocket } from '../support/sockets';
import { devAuth, devToken, until } from '../support/wait';

type Received = { name: string; payload: Record<string, any>; receivedAt: number };

/**
 * Two real processes on one database and no Redis: a worker process and an API-only one
 * (BATCH_WORKERS=0). A socket on the API process hears the batch the other one works on.
 */
describe(`Every process's sockets hear every batch without Redis (${TEST_BACKEND})`, () => {
  let db: TempDatabase;
  let worker: ServerProcess;
  let api: ServerProcess;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    db = await givenDatabase();
    const env = (name: string, extra: Record<string, string> = {}) => ({
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, `logs-${name}`),
      BATCH_POLL_MS: '20',
      PROGRESS_INTERVAL_MS: '250',
      RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
      ...extra,
    });
    [worker, api] = await Promise.all([
      spawnServer(env('worker')),
      spawnServer(env('api', { BATCH_WORKERS: '0' })),
    ]);
    await enableBatchesOn(api);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all([worker.stop(), api.stop()]);
    await db.remove();
  });

  const connect = async (userId: string) => {
    const socket = await connectedSocket(api.baseUrl, devToken(userId));
    sockets.push(socket);
    const events: Received[] = [];
    for (const name of ['batch-progress', 'batch-complete', 'item-progress'])
      socket.on(name, (payload: Record<string, any>) =>
        events.push({ name, payload, receivedAt: Date.now() }),
      );
    return { socket, events };
  };

  it('relays progress in order, coalesced, item progress, and the completion once, to the API-only process', async () => {
    const userId = 'no-redis-user';
    const watcher = await connect(userId);
    const roomOnly = await connect(userId);
    const created = await request(api.baseUrl)
      .post('/batches')
      .set(devAuth(userId))
      .send({
        operation: 'diagnostics.echo',
        items: Array.from({ length: 40 }, (_, n) => ({ n, delayMs: 60, stages: ['fetch', 'parse'] })),
        options: { chunkSize: 4 },
      })
      .expect(202);
    const id = created.body.id as string;
    const ack = (await watcher.socket.emitWithAck('subscribe', { batchId: id })) as {
      ok: boolean;
      seq: number;
    };
    expect(ack.ok).toBe(true);
    await until(
      'batch-complete on the API process',
      () => watcher.events.some((e) => e.name === 'batch-complete'),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 1500)); // nothing more may come

    const batchEvents = watcher.events.filter((e) => e.name !== 'item-progress' && e.payload.batchId === id);
    const progress = batchEvents.filter((e) => e.name === 'batch-progress');
    const complete = batchEvents.filter((e) => e.name === 'batch-complete');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(complete).toHaveLength(1);
    expect(batchEvents[batchEvents.length - 1].name).toBe('batch-complete');
    expect(complete[0].payload).toMatchObject({ status: 'completed', processedCount: 40, stage: 'finished' });
    // seq rises strictly from event to event (the user's room may deliver the snapshot's own
    // state before the ack; a client applies only what is newer than its snapshot).
    const seqs = batchEvents.map((e) => e.payload.seq as number);
    expect(seqs[seqs.length - 1]).toBeGreaterThan(ack.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
    // Coalesced: at most one batch-progress per 250 ms (the final state aside), measured where it was sent.
    const sentAt = progress.slice(0, -1).map((e) => Date.parse(e.payload.at));
    expect(progress.length).toBeLessThanOrEqual(Math.ceil((sentAt[sentAt.length - 1] - sentAt[0]) / 250) + 3);
    // Within an interval and a second of the commit that produced it (3 s allowed for a loaded machine).
    expect(complete[0].receivedAt - Date.parse(complete[0].payload.finishedAt)).toBeLessThan(3_000);
    // Item progress from the items the other process is working on.
    const items = watcher.events.filter((e) => e.name === 'item-progress');
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((e) => e.payload.batchId === id && ['fetch', 'parse'].includes(e.payload.stage))).toBe(
      true,
    );
    // A socket of the owner that did not subscribe hears the batch through its user's room, completion once.
    expect(
      roomOnly.events.filter((e) => e.name === 'batch-complete' && e.payload.batchId === id),
    ).toHaveLength(1);
    expect(roomOnly.events.filter((e) => e.name === 'item-progress')).toHaveLength(0);
  });
});
