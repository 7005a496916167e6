import path from 'node:path';
import { ApiError, BatchClient, type BatchWatchState } from '../src/index';
import { givenDatabase, TempDatabase } from '../../backend/test/support/temp-database';
import { enableBatchesOn, ServerProcess, spawnServer } from '../../backend/test/support/server-process';
import { devToken, until, clearOfWindowEnd } from '../../backend/test/support/wait';

/**
 * The client package against the real compiled server: every REST call typed and its
 * errors as ApiError, and live batches that survive a server killed and started again
 * mid-batch (two tabs of one user, counts never going backwards).
 */
describe('@nest-batch-ops/client', () => {
  let db: TempDatabase;
  let server: ServerProcess;
  const clients: BatchClient[] = [];
  const env = (name: string) => ({
    DATABASE_URL: db.url,
    LOG_DIR: path.join(db.dir, `logs-${name}`),
    RATE_LIMIT_BATCH_OPERATIONS: '3/3600',
    PROGRESS_INTERVAL_MS: '50',
    ROLLOUT_EVALUATION_MS: '200',
  });
  const clientFor = (userId: string, roles: string[] = []) => {
    const client = new BatchClient({
      baseUrl: server.baseUrl,
      token: () => devToken(userId, roles),
      reconnectionDelayMax: 500,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    db = await givenDatabase();
    server = await spawnServer(env('first'));
    await enableBatchesOn(server);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.stop();
    await db.remove();
  });

  it('makes every call typed, replays an Idempotency-Key, and rejects with the server’s code, details and Retry-After', async () => {
    await clearOfWindowEnd(3_600_000);
    const client = clientFor('rest-user');
    const body = { operation: 'diagnostics.echo', items: [{ n: 1 }, { n: 2 }] };
    const first = await client.createBatch(body, { idempotencyKey: 'submit-1' });
    const again = await client.createBatch(body, { idempotencyKey: 'submit-1' });
    expect(again.id).toBe(first.id);
    expect(first).toMatchObject({ operation: 'diagnostics.echo', itemCount: 2, status: expect.any(String) });
    await until('done', async () => (await client.getBatch(first.id)).finishedAt !== null);
    const items = await client.listItems(first.id, { limit: 1 });
    expect(items.data[0]).toMatchObject({ seq: 0, status: 'success', nextAttemptAt: null });
    expect(items.nextCursor).toEqual(expect.any(String));
    expect((await client.listBatches({ limit: 5 })).data.map((b) => b.id)).toContain(first.id);
    const exported = await client.exportItems(first.id, { format: 'ndjson' });
    expect((await exported.text()).trim().split('\n')).toHaveLength(2);
    expect((await client.myFeatures()).BATCH_OPERATIONS).toMatchObject({ enabled: true });

    const invalid = await client
      .createBatch({ operation: 'diagnostics.echo', items: [] })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ApiError);
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((invalid as ApiError).fieldErrors.join(' ')).toMatch(/items/);
    const missing = await client.getBatch('00000000-0000-0000-0000-000000000000').catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    await client.createBatch(body);
    await client.createBatch(body);
    const limited = (await client.createBatch(body).catch((e: unknown) => e)) as ApiError;
    expect(limited).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    const forbidden = await client.listFlags().catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    const admin = clientFor('client-admin', ['admin']);
    expect((await admin.getFlag('BATCH_OPERATIONS')).enabled).toBe(true);
    expect(await admin.getRolloutPlan('BATCH_OPERATIONS').catch((e: ApiError) => e.code)).toBe('NOT_FOUND');
    const offline = new BatchClient({ baseUrl: 'http://127.0.0.1:9', token: 't' });
    expect(await offline.getBatch('x').catch((e: ApiError) => [e.status, e.code])).toEqual([0, 'NETWORK']);
  });

  it('watches a batch in two tabs through a server killed and started again mid-batch: stale while down, caught up after, never backwards', async () => {
    const tabs = [clientFor('live-user'), clientFor('live-user')];
    const batch = await tabs[0].createBatch({
      operation: 'diagnostics.echo',
      items: Array.from({ length: 60 }, (_, i) => ({ n: i, delayMs: 40 })),
      options: { chunkSize: 5 },
    });
    const seen: BatchWatchState[][] = [[], []];
    const stops = tabs.map((tab, i) => tab.watchBatch(batch.id, (state) => seen[i].push(state)));
    const listSeen: string[][] = [];
    const stopList = tabs[1].watchBatches((state) => listSeen.push(state.batches.map((b) => b.id)));
    try {
      await until('some items done, live', () =>
        seen.every(
          (s) => (s.at(-1)?.batch?.processedCount ?? 0) >= 10 && s.at(-1)?.connection.state === 'live',
        ),
      );
      await server.crash();
      await until('both tabs know the data is stale', () =>
        seen.every(
          (s) => s.at(-1)?.connection.state === 'reconnecting' && s.at(-1)?.connection.staleSince !== null,
        ),
      );
      server = await spawnServer(env('second'), { port: server.port });
      await until(
        'both tabs caught up to the end',
        () =>
          seen.every((s) => s.at(-1)?.batch?.status === 'completed' && s.at(-1)?.connection.state === 'live'),
        60_000,
      );
      const truth = await tabs[0].getBatch(batch.id);
      for (const states of seen) {
        const last = states.at(-1) as BatchWatchState;
        expect(last.batch).toMatchObject({ processedCount: 60, succeededCount: 60, status: 'completed' });
        expect(last.batch?.finishedAt).toBe(truth.finishedAt);
        expect(last.connection.staleSince).toBeNull();
        // Counts never go backwards, seqs only rise.
        const counts = states.filter((s) => s.batch).map((s) => s.batch?.processedCount ?? 0);
        expect(counts).toEqual([...counts].sort((a, b) => a - b));
        const seqs = states.map((s) => s.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
      // The other tab's list knows the batch (and a batch created elsewhere appears in it).
      expect(listSeen.at(-1)).toContain(batch.id);
      const elsewhere = await tabs[0].createBatch({ operation: 'diagnostics.echo', items: [{ n: 1 }] });
      await until(
        'the list shows the batch created in the other tab',
        () => !!listSeen.at(-1)?.includes(elsewhere.id),
      );
    } finally {
      stops.forEach((stop) => stop());
      stopList();
    }
  });

  it('tells admins, and only them, of every rollout plan transition as it happens', async () => {
    const admin = clientFor('client-admin', ['admin']);
    const user = clientFor('client-user');
    const seen: { admin: string[]; user: string[] } = { admin: [], user: [] };
    const stops = [
      admin.watchFlagRollouts(
        (e) => e.flag === 'CLIENT_ROLLOUT' && seen.admin.push(`${e.action} ${e.rollout}`),
      ),
      user.watchFlagRollouts((e) => seen.user.push(e.action)),
    ];
    await admin.putFlag('CLIENT_ROLLOUT', { enabled: true, rollout: 0 });
    await admin.putRolloutPlan('CLIENT_ROLLOUT', {
      steps: [{ rollout: 50 }, { rollout: 100 }],
      minStepSeconds: 1,
      guards: {},
    });
    await until('the plan to complete', () => seen.admin.includes('completed 100'), 30_000);
    expect(seen.admin).toEqual(['advanced 100', 'completed 100']);
    expect(seen.user).toEqual([]);
    stops.forEach((stop) => stop());
  });
});
