import { io } from 'socket.io-client';
import { clearOfWindowEnd } from '../support/wait';
import { givenBatch, givenBatchFeatureOn, givenUser, waitForBatch } from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';

/** The value of one sample line of the Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith(name) &&
        !l.startsWith('#') &&
        want.every((w) => l.includes(w)) &&
        /[{ ]/.test(l[name.length]),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('GET /metrics and the items export (e2e)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await givenApp({
      MAX_BATCH_ITEMS: '100000',
      MAX_BODY_BYTES: String(32 * 1024 * 1024),
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
      RATE_LIMIT_BATCH_ITEM_PROCESSING: '10000000/3600',
      RATE_LIMIT_EXPORT: '3/3600',
    });
    await givenBatchFeatureOn(sut);
  });
  afterAll(() => sut.close());

  it('moves the counters by exactly what a batch did, with low-cardinality labels only', async () => {
    const user = givenUser(sut);
    const metrics = async () => (await sut.http().get('/metrics').expect(200)).text;
    const before = await metrics();
    const socket = io(`${sut.baseUrl}/batches`, { auth: { token: user.token }, transports: ['websocket'] });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const items = Array.from({ length: 30 }, (_, n) => (n % 6 === 0 ? { n, failPermanently: true } : { n }));
    const batch = await givenBatch(sut, user, { items, options: { chunkSize: 10 } });
    await waitForBatch(sut, user, batch.id);
    const after = await metrics();
    const settled = (text: string, outcome: string) =>
      sample(text, 'batch_items_settled_total', { operation: 'diagnostics.echo', outcome });
    expect(settled(after, 'success') - settled(before, 'success')).toBe(25);
    expect(settled(after, 'failed') - settled(before, 'failed')).toBe(5);
    expect(
      sample(after, 'batch_chunk_duration_seconds_count', { operation: 'diagnostics.echo' }),
    ).toBeGreaterThanOrEqual(3);
    expect(sample(after, 'batch_socket_connections')).toBeGreaterThanOrEqual(1);
    expect(
      sample(after, 'feature_flag_evaluations_total', { flag: 'BATCH_OPERATIONS', reason: 'SPLIT' }),
    ).toBeGreaterThan(0);
    expect(
      sample(after, 'http_request_duration_seconds_count', { route: '/batches/:id', status: '200' }),
    ).toBeGreaterThan(0);
    expect(after).toContain('nodejs_eventloop_lag_seconds');
    expect(after).toContain('batch_items{status="queued"}');
    expect(after).toContain('batch_active_batches{status="processing"}');
    expect(after).not.toContain(batch.id);
    expect(after).not.toContain(user.userId);
    socket.close();
  });

  it('streams 100,000 items as CSV and NDJSON, filtered by status, with the failed ones ready to fix and resubmit', async () => {
    const user = givenUser(sut);
    const items = Array.from({ length: 100_000 }, (_, n) =>
      n % 100 === 0 ? { n, failPermanently: true, note: 'a, "quoted"\nline' } : { n },
    );
    const batch = await givenBatch(sut, user, { items, options: { chunkSize: 500 } });
    await waitForBatch(sut, user, batch.id, undefined, 120_000);

    const all = await sut
      .http()
      .get(`/batches/${batch.id}/items/export?format=ndjson`)
      .set(user.auth)
      .expect(200);
    expect(all.headers['content-type']).toContain('application/x-ndjson');
    expect(all.headers['content-disposition']).toBe(`attachment; filename="batch-${batch.id}-items.ndjson"`);
    const lines = all.text.trimEnd().split('\n');
    expect(lines).toHaveLength(100_000);
    expect(JSON.parse(lines[99_999])).toMatchObject({
      seq: 99_999,
      status: 'success',
      payload: { n: 99_999 },
    });

    const failed = await sut
      .http()
      .get(`/batches/${batch.id}/items/export?format=csv&status=failed`)
      .set(user.auth)
      .expect(200);
    expect(failed.headers['content-type']).toContain('text/csv');
    expect(failed.text.startsWith('seq,status,attempts,error,payload,result,errorCategory,retryable\n')).toBe(
      true,
    );
    // Each row: seq,status,attempts,error,"payload" — the payload cell holds a quoted newline, so count records by seq.
    const records = failed.text.match(/^\d+,failed,1,/gm) ?? [];
    expect(records).toHaveLength(1000);
    const first = /^0,failed,1,([^,]*),"((?:[^"]|"")*)",/m.exec(failed.text)!;
    expect(JSON.parse(first[2].replace(/""/g, '"'))).toEqual({
      n: 0,
      failPermanently: true,
      note: 'a, "quoted"\nline',
    });
  });

  it('answers 404 for someone else’s batch, 400 for a bad format, and 429 past the EXPORT quota', async () => {
    await clearOfWindowEnd(3_600_000);
    const owner = givenUser(sut);
    const other = givenUser(sut);
    const batch = await givenBatch(sut, owner, { items: [{ n: 1 }] });
    await sut.http().get(`/batches/${batch.id}/items/export`).set(other.auth).expect(404);
    const bad = await sut
      .http()
      .get(`/batches/${batch.id}/items/export?format=xlsx`)
      .set(owner.auth)
      .expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    for (let i = 0; i < 3; i++)
      await sut.http().get(`/batches/${batch.id}/items/export`).set(owner.auth).expect(200);
    const limited = await sut.http().get(`/batches/${batch.id}/items/export`).set(owner.auth).expect(429);
    expect(limited.body.details.violatedPolicies[0].policy).toBe('EXPORT');
    const text = (await sut.http().get('/metrics').expect(200)).text;
    expect(sample(text, 'rate_limit_refusals_total', { policy: 'EXPORT' })).toBe(1);
  });
});

describe('GET /metrics in production', () => {
  it('is 404 without METRICS_TOKEN', async () => {
    const sut = await givenApp({ NODE_ENV: 'production', JWT_SECRET: 'a-private-secret-for-this-test' });
    try {
      await sut.http().get('/metrics').expect(404);
    } finally {
      await sut.close();
    }
  });

  it('needs the bearer METRICS_TOKEN when it is set', async () => {
    const token = 'metrics-token-of-this-test';
    const sut = await givenApp({
      NODE_ENV: 'production',
      JWT_SECRET: 'a-private-secret-for-this-test',
      METRICS_TOKEN: token,
    });
    try {
      await sut.http().get('/metrics').expect(401);
      await sut.http().get('/metrics').set('Authorization', 'Bearer wrong-token-of-this-tes').expect(401);
      // The bare token (without the Bearer scheme) is not accepted.
      await sut.http().get('/metrics').set('Authorization', token).expect(401);
      const res = await sut.http().get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.text).toContain('process_cpu_user_seconds_total');
    } finally {
      await sut.close();
    }
  });

  it('needs the token in development too once it is set (setting it means "required")', async () => {
    const token = 'metrics-token-of-this-test';
    const sut = await givenApp({ NODE_ENV: 'development', METRICS_TOKEN: token });
    try {
      await sut.http().get('/metrics').expect(401);
      await sut.http().get('/metrics').set('Authorization', token).expect(401);
      await sut.http().get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    } finally {
      await sut.close();
    }
  });
});
