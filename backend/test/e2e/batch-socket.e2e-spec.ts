import { io, Socket } from 'socket.io-client';
import { clearOfWindowEnd } from '../support/wait';
import {
  echoItems,
  givenBatch,
  givenBatchFeatureOn,
  givenUser,
  TestUser,
  waitForBatch,
} from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';

type Received = { name: string; payload: Record<string, any>; receivedAt: number };

function connect(sut: TestApp, token?: string): Socket {
  return io(`${sut.baseUrl}/batches`, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: false,
  });
}

async function connected(socket: Socket): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

function record(socket: Socket): Received[] {
  const events: Received[] = [];
  for (const name of ['batch-progress', 'batch-complete', 'batch-error']) {
    socket.on(name, (payload: Record<string, any>) => events.push({ name, payload, receivedAt: Date.now() }));
  }
  return events;
}

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Batch progress over Socket.io (e2e)', () => {
  let sut: TestApp;
  const sockets: Socket[] = [];
  const open = (token?: string) => {
    const s = connect(sut, token);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    sut = await givenApp({
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
      PROGRESS_INTERVAL_MS: '100',
      RATE_LIMIT_SOCKET_EVENTS: '20/60',
    });
    await givenBatchFeatureOn(sut);
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(() => sut.close());

  it.each([
    ['no token', undefined],
    ['a bad token', 'not-a-token'],
    ['an expired token', 'expired'],
  ])('refuses %s with connect_error UNAUTHENTICATED', async (_name, token) => {
    const value = token === 'expired' ? sut.tokenFor('u1', { expiresInSeconds: -5 }) : token;
    const socket = open(value);
    const error = await new Promise<Error & { data?: unknown }>((resolve) =>
      socket.once('connect_error', resolve),
    );
    expect(error.data).toEqual({ code: 'UNAUTHENTICATED' });
  });

  it('disconnects the socket when its token expires', async () => {
    const socket = open(sut.tokenFor('short-lived', { expiresInSeconds: 2 }));
    await connected(socket);
    const reason = await new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect(reason).toBe('io server disconnect');
  });

  it('sends every event of A’s batch to A only, in order, with one completion that matches GET', async () => {
    const alice = givenUser(sut);
    const bob = givenUser(sut);
    const aliceSocket = open(alice.token);
    const aliceTab2 = open(alice.token);
    const bobSocket = open(bob.token);
    await Promise.all([connected(aliceSocket), connected(aliceTab2), connected(bobSocket)]);
    const [aliceEvents, tab2Events, bobEvents] = [record(aliceSocket), record(aliceTab2), record(bobSocket)];

    const batch = await givenBatch(sut, alice, { items: echoItems(5_000), options: { chunkSize: 50 } });
    await until(() => aliceEvents.some((e) => e.name === 'batch-complete'));
    await new Promise((r) => setTimeout(r, 300));

    const mine = aliceEvents.filter((e) => e.payload.batchId === batch.id);
    const progress = mine.filter((e) => e.name === 'batch-progress');
    const complete = mine.filter((e) => e.name === 'batch-complete');
    expect(complete).toHaveLength(1);
    expect(mine[mine.length - 1].name).toBe('batch-complete');
    const seqs = mine.map((e) => e.payload.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
    const percentages = progress.map((e) => e.payload.percentage);
    for (let i = 1; i < percentages.length; i++)
      expect(percentages[i]).toBeGreaterThanOrEqual(percentages[i - 1]);
    // Coalescing: one per 100 ms at most, plus the first and the final state. Client receive
    // times share this process's event loop with the server, so judge by the server's commit times.
    const duration = Date.parse(complete[0].payload.at) - Date.parse(progress[0].payload.at);
    expect(progress.length).toBeLessThanOrEqual(Math.floor(duration / 100) + 2);
    expect(progress[0].payload).toMatchObject({
      userId: alice.userId,
      stage: 'processing',
      correlationId: batch.correlationId,
    });
    expect(progress[0].payload.message).toMatch(/^Processed \d+ of 5000 items$/);
    const final = (await sut.http().get(`/batches/${batch.id}`).set(alice.auth).expect(200)).body;
    expect(complete[0].payload).toMatchObject({
      stage: 'finished',
      status: final.status,
      processedCount: final.processedCount,
      succeededCount: final.succeededCount,
      failedCount: final.failedCount,
      percentage: 100,
      finishedAt: final.finishedAt,
    });
    expect(tab2Events.filter((e) => e.name === 'batch-complete')).toHaveLength(1);
    expect(bobEvents).toEqual([]);
  });

  it('acks subscribe with the snapshot; someone else’s batch is NOT_FOUND; admins may watch any batch', async () => {
    const alice = givenUser(sut);
    const mallory = givenUser(sut);
    const admin = givenUser(sut, { admin: true });
    const batch = await givenBatch(sut, alice, { items: echoItems(3) });
    await waitForBatch(sut, alice, batch.id);
    const [a, m, root] = [open(alice.token), open(mallory.token), open(admin.token)];
    await Promise.all([connected(a), connected(m), connected(root)]);
    const ack = await a.emitWithAck('subscribe', { batchId: batch.id });
    expect(ack).toMatchObject({ ok: true, batch: { id: batch.id, status: 'completed', succeededCount: 3 } });
    // The snapshot's seq is the completion's: a client drops every event it already reflects.
    expect(ack.seq).toEqual(expect.any(Number));
    expect(await m.emitWithAck('subscribe', { batchId: batch.id })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await m.emitWithAck('subscribe', { batchId: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await root.emitWithAck('subscribe', { batchId: batch.id })).toMatchObject({ ok: true });
    expect(await a.emitWithAck('unsubscribe', { batchId: batch.id })).toMatchObject({ ok: true });

    const rootEvents = record(root);
    await sut.http().post(`/batches/${batch.id}/retry`).set(alice.auth).send({}).expect(409);
    const items = [{ failPermanently: true }, { delayMs: 600 }];
    const second = await givenBatch(sut, alice, { items });
    expect(await root.emitWithAck('subscribe', { batchId: second.id })).toMatchObject({ ok: true });
    await waitForBatch(sut, alice, second.id);
    await until(() => rootEvents.some((e) => e.name === 'batch-complete' && e.payload.batchId === second.id));
    const completion = rootEvents.find(
      (e) => e.name === 'batch-complete' && e.payload.batchId === second.id,
    )!;
    const late = await root.emitWithAck('subscribe', { batchId: second.id });
    expect(late.seq).toBe(completion.payload.seq);
  });

  it('answers bad subscribe payloads with VALIDATION_FAILED and keeps serving', async () => {
    const user = givenUser(sut);
    const socket = open(user.token);
    await connected(socket);
    const errors = record(socket);
    for (const bad of [null, 42, 'x', {}, { batchId: 7 }, { batchId: 'x'.repeat(65) }]) {
      expect(await socket.emitWithAck('subscribe', bad)).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED' },
      });
    }
    // The ack answers a bad payload; no batch-error event on top of it.
    await new Promise((r) => setTimeout(r, 100));
    expect(errors.filter((e) => e.name === 'batch-error')).toEqual([]);
    await sut.http().get('/health').expect(200);
  });

  it('rate-limits subscribe spam per user with batch-error RATE_LIMITED, while others are served', async () => {
    await clearOfWindowEnd(60_000, 10_000);
    const spammer = givenUser(sut);
    const other: TestUser = givenUser(sut);
    const s = open(spammer.token);
    const o = open(other.token);
    await Promise.all([connected(s), connected(o)]);
    const errors = record(s);
    const acks = await Promise.all(
      Array.from({ length: 30 }, () => s.emitWithAck('subscribe', { batchId: 'nope' })),
    );
    expect(acks.filter((a) => a.error?.code === 'RATE_LIMITED')).toHaveLength(10);
    await until(() => errors.filter((e) => e.payload.code === 'RATE_LIMITED').length === 10);
    expect(await o.emitWithAck('subscribe', { batchId: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });

  it('answers FEATURE_DISABLED when the flag is off for the user', async () => {
    const admin = givenUser(sut, { admin: true });
    const outsider = givenUser(sut);
    await sut
      .http()
      .patch('/feature-flags/BATCH_OPERATIONS')
      .set(admin.auth)
      .send({ blacklist: [outsider.userId] })
      .expect(200);
    const socket = open(outsider.token);
    await connected(socket);
    expect(await socket.emitWithAck('subscribe', { batchId: 'any' })).toMatchObject({
      ok: false,
      error: { code: 'FEATURE_DISABLED' },
    });
    await sut
      .http()
      .patch('/feature-flags/BATCH_OPERATIONS')
      .set(admin.auth)
      .send({ blacklist: [] })
      .expect(200);
  });

  it('sends item-progress with the stages in order to the owner’s sockets that watch the batch, and stores the last one', async () => {
    const owner = givenUser(sut);
    const watching = open(owner.token);
    const notWatching = open(owner.token);
    await Promise.all([connected(watching), connected(notWatching)]);
    const seen: Record<string, any>[] = [];
    const elsewhere: Record<string, any>[] = [];
    watching.on('item-progress', (e: Record<string, any>) => seen.push(e));
    notWatching.on('item-progress', (e: Record<string, any>) => elsewhere.push(e));
    const stages = ['downloading', 'extracting', 'saving'];
    const batch = await givenBatch(sut, owner, {
      // The first item only waits, so the socket has subscribed before any stage is reported.
      items: [
        { n: 0, delayMs: 400 },
        { n: 1, stages, delayMs: 900 },
        { n: 2, stages, delayMs: 900 },
      ],
      options: { chunkSize: 3 },
    });
    expect(await watching.emitWithAck('subscribe', { batchId: batch.id })).toMatchObject({ ok: true });
    await waitForBatch(sut, owner, batch.id);
    await until(() => seen.filter((e) => e.stage === 'saving').length === 2);
    for (const seq of [1, 2]) {
      const mine = seen.filter((e) => e.seq === seq);
      // Coalesced per item (100 ms here, 300 ms between stages): every stage arrives, in order.
      expect(mine.map((e) => e.stage)).toEqual(stages);
      expect(mine.map((e) => e.percentage)).toEqual([33, 67, 100]);
      expect(mine[0]).toMatchObject({ batchId: batch.id, message: 'downloading (1 of 3)' });
    }
    expect(elsewhere).toEqual([]);
    const items = await sut.http().get(`/batches/${batch.id}/items`).set(owner.auth).expect(200);
    expect(items.body.data.map((i: { stage: string; progress: number }) => [i.stage, i.progress])).toEqual([
      [null, 100],
      ['saving', 100],
      ['saving', 100],
    ]);
  });
});
