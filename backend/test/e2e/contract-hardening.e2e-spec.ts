import { JwtService } from '@nestjs/jwt';
import { clearOfWindowEnd } from '../support/wait';
import { io } from 'socket.io-client';
import { databaseChecksum } from '../support/db-checksum';
import {
  echoItems,
  givenBatch,
  givenBatchFeatureOn,
  givenUser,
  TestUser,
  waitForBatch,
} from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('Contract v2 hardening (e2e)', () => {
  let sut: TestApp;
  let user: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    sut = await givenApp({
      RATE_LIMIT_BATCH_OPERATIONS: '3/3600',
      RATE_LIMIT_BATCH_ITEM_PROCESSING: '50/3600',
      MAX_BATCH_ITEMS: '100',
      BATCH_RETRY_BASE_MS: '10',
    });
    await givenBatchFeatureOn(sut);
    admin = givenUser(sut, { admin: true });
  });
  beforeEach(async () => {
    // The quotas here are per hour: no test may straddle the hour's end.
    await clearOfWindowEnd(3_600_000);
    user = givenUser(sut);
  });
  afterAll(() => sut.close());

  const post = (who: TestUser, body: object, key?: string) => {
    const req = sut.http().post('/batches').set(who.auth);
    return key ? req.set('Idempotency-Key', key).send(body) : req.send(body);
  };

  describe('what the batch quotas charge', () => {
    it('charges nothing for rejected requests: ten typos, then the quota is whole', async () => {
      for (let i = 0; i < 10; i++) {
        await post(user, { operation: 'diagnostics.echo', items: 'oops' }).expect(400);
        await post(user, { operation: 'no.such.op', items: [{}] }).expect(400);
      }
      for (let i = 0; i < 3; i++) {
        const res = await post(user, { operation: 'diagnostics.echo', items: [{ n: i }] }).expect(202);
        expect(res.headers['x-ratelimit-remaining']).toBe(String(2 - i));
      }
      const refused = await post(user, { operation: 'diagnostics.echo', items: [{ n: 9 }] }).expect(429);
      expect(refused.body.details.violatedPolicies[0]).toMatchObject({ policy: 'BATCH_OPERATIONS' });
    });

    it('answers 413 BATCH_TOO_LARGE over MAX_BATCH_ITEMS whatever the quotas say, and stores nothing', async () => {
      const before = await databaseChecksum(sut.prisma);
      const res = await post(user, { operation: 'diagnostics.echo', items: echoItems(101) }).expect(413);
      expect(res.body.code).toBe('BATCH_TOO_LARGE');
      expect(res.headers['retry-after']).toBeUndefined();
      // 60 items exceed the item quota (50/h): that one is a 429, with a quota that was not charged.
      const quota = await post(user, { operation: 'diagnostics.echo', items: echoItems(60) }).expect(429);
      expect(quota.body.details.violatedPolicies[0]).toMatchObject({ policy: 'BATCH_ITEM_PROCESSING' });
      expect(await databaseChecksum(sut.prisma)).toBe(before);
      await post(user, { operation: 'diagnostics.echo', items: echoItems(50) }).expect(202);
    });

    it('charges a keyed POST once: 20 parallel replays get the batch (or 409), never 429', async () => {
      const body = { operation: 'diagnostics.echo', items: echoItems(5) };
      const responses = await Promise.all(Array.from({ length: 20 }, () => post(user, body, 'same-key')));
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 202)).toHaveLength(1);
      expect(statuses.every((s) => [200, 202, 409].includes(s))).toBe(true);
      for (let i = 0; i < 5; i++) await post(user, body, 'same-key').expect(200);
      // One batch charged: two more fit in the 3/h quota.
      await post(user, { operation: 'diagnostics.echo', items: [{}] }).expect(202);
      await post(user, { operation: 'diagnostics.echo', items: [{}] }).expect(202);
      await post(user, { operation: 'diagnostics.echo', items: [{}] }).expect(429);
    });
  });

  describe('cursors', () => {
    const times = [
      '+099999-01-01T00:00:00.000Z',
      new Date(8.64e15).toISOString(),
      new Date(-8.64e15).toISOString(),
      '1969-12-31T23:59:59.999Z',
      '2026-01-01',
    ];
    it.each(times)('refuses a time cursor of %s with 400 on /batches and /papers', async (t) => {
      for (const path of ['/batches', '/papers']) {
        const res = await sut
          .http()
          .get(`${path}?cursor=${cursor({ t, id: 'x' })}`)
          .set(user.auth)
          .expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
    });

    it.each([1e21, 2 ** 63, 2 ** 31, -2, 1.5])('refuses an item cursor of %s with 400', async (seq) => {
      const batch = await givenBatch(sut, user, { items: [{}] });
      const res = await sut
        .http()
        .get(`/batches/${batch.id}/items?cursor=${cursor({ seq })}`)
        .set(user.auth)
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });

    it('still accepts the cursors the server issues', async () => {
      for (let i = 0; i < 3; i++) await givenBatch(sut, user, { items: [{}] });
      const first = await sut.http().get('/batches?limit=1').set(user.auth).expect(200);
      const second = await sut
        .http()
        .get(`/batches?limit=1&cursor=${first.body.nextCursor}`)
        .set(user.auth)
        .expect(200);
      expect(second.body.data[0].id).not.toBe(first.body.data[0].id);
    });
  });

  describe('flag metadata', () => {
    const deep = () => {
      let value: Record<string, unknown> = { leaf: true };
      for (let i = 0; i < 1000; i++) value = { nested: value };
      return value;
    };
    it.each([
      ['nested 1,000 levels deep', deep()],
      ['of 9 MiB', { blob: 'x'.repeat(9 * 1024 * 1024) }],
      ['of 4 KiB + 1', { blob: 'x'.repeat(4 * 1024) }],
      ['nested 33 levels deep', JSON.parse('{"a":'.repeat(33) + '1' + '}'.repeat(33)) as object],
    ])('refuses metadata %s with 400 and changes nothing', async (_name, metadata) => {
      const before = await databaseChecksum(sut.prisma);
      const res = await sut
        .http()
        .put('/feature-flags/DEEP_FLAG')
        .set(admin.auth)
        .send({ enabled: true, rollout: 10, metadata })
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(await databaseChecksum(sut.prisma)).toBe(before);
    });

    it('accepts metadata within the limits', async () => {
      const metadata = JSON.parse('{"a":'.repeat(31) + '1' + '}'.repeat(31)) as object;
      await sut
        .http()
        .put('/feature-flags/DEEP_FLAG')
        .set(admin.auth)
        .send({ enabled: true, rollout: 10, metadata })
        .expect(200);
    });
  });

  describe('tokens', () => {
    const withoutExp = () =>
      new JwtService().sign(
        { sub: 'forever', roles: [] },
        { secret: sut.config.JWT_SECRET, algorithm: 'HS256' },
      );

    it('refuses a token without exp over HTTP', async () => {
      const res = await sut
        .http()
        .get('/me/features')
        .set('Authorization', `Bearer ${withoutExp()}`)
        .expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });

    it('refuses a token without exp on the socket', async () => {
      const socket = io(`${sut.baseUrl}/batches`, {
        auth: { token: withoutExp() },
        transports: ['websocket'],
        reconnection: false,
      });
      try {
        const error = await new Promise<Error & { data?: unknown }>((resolve) =>
          socket.once('connect_error', resolve),
        );
        expect(error.data).toEqual({ code: 'UNAUTHENTICATED' });
      } finally {
        socket.close();
      }
    });
  });

  describe('every 429 has one shape', () => {
    it('the auth throttler answers Retry-After and X-RateLimit-* of its own limit', async () => {
      const login = () => sut.http().post('/auth/dev-login').send({ userId: 'someone' });
      const responses = [];
      // The dev-login route sets its own `auth` limit: 30 per minute.
      for (let i = 0; i < 31; i++) responses.push(await login());
      const refused = responses.find((r) => r.status === 429)!;
      expect(refused).toBeDefined();
      expect(refused.body.code).toBe('RATE_LIMITED');
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(refused.headers['retry-after-auth']).toBeUndefined();
      expect(responses.filter((r) => r.status === 429)).toHaveLength(1);
      expect(refused.headers['x-ratelimit-limit']).toBe('30');
      expect(refused.headers['x-ratelimit-remaining']).toBe('0');
      expect(Number(refused.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
      expect(refused.headers['ratelimit-policy']).toBe('"THROTTLE_AUTH";q=30;w=60');
      expect(refused.headers['ratelimit']).toMatch(/^"THROTTLE_AUTH";r=0;t=\d+$/);
      expect(refused.body.details.violatedPolicies).toEqual([
        expect.objectContaining({ policy: 'THROTTLE_AUTH', limit: 30, remaining: 0 }),
      ]);
    });
  });

  describe('retry rules', () => {
    it('lets one of two concurrent retries through and answers the other 409', async () => {
      const batch = await givenBatch(sut, user, {
        items: [{ failPermanently: true, delayMs: 400 }, { failPermanently: true, delayMs: 400 }, {}],
        options: { chunkSize: 1 },
      });
      await waitForBatch(sut, user, batch.id);
      const [first, second] = await Promise.all(
        [0, 1].map(() => sut.http().post(`/batches/${batch.id}/retry`).set(user.auth).send({})),
      );
      expect([first.status, second.status].sort()).toEqual([202, 409]);
      expect([first, second].find((r) => r.status === 409)!.body.code).toBe('INVALID_STATE');
      // And a retry while that retry still runs.
      const again = await sut.http().post(`/batches/${batch.id}/retry`).set(user.auth).send({}).expect(409);
      expect(again.body.code).toBe('INVALID_STATE');
      const final = await waitForBatch(sut, user, batch.id);
      expect(final).toMatchObject({ status: 'completed_with_errors', failedCount: 2, succeededCount: 1 });
    });

    it('keeps a cancelled batch final: retry is 409 INVALID_STATE', async () => {
      const batch = await givenBatch(sut, user, {
        items: [{ failPermanently: true }, ...echoItems(40, { delayMs: 50 })],
        options: { chunkSize: 1 },
      });
      await waitForBatch(sut, user, batch.id, (b) => b.failedCount === 1);
      await sut.http().post(`/batches/${batch.id}/cancel`).set(user.auth).expect(202);
      const final = await waitForBatch(sut, user, batch.id);
      expect(final.status).toBe('cancelled');
      const res = await sut.http().post(`/batches/${batch.id}/retry`).set(user.auth).send({}).expect(409);
      expect(res.body.code).toBe('INVALID_STATE');
      const after = await sut.http().get(`/batches/${batch.id}`).set(user.auth).expect(200);
      expect(after.body).toMatchObject({ status: 'cancelled', finishedAt: final.finishedAt });
    });
  });
});
