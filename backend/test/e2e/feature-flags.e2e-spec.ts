import { givenUser } from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';

describe('Feature flags (e2e)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await givenApp({ RATE_LIMIT_BATCH_OPERATIONS: '1000/3600', FEATURE_FLAG_CACHE_MS: '600000' });
  });
  afterAll(() => sut.close());

  const batchBody = { operation: 'diagnostics.echo', items: [{ n: 1 }] };

  it('a fresh database has BATCH_OPERATIONS present and disabled', async () => {
    const admin = givenUser(sut, { admin: true });
    const res = await sut.http().get('/feature-flags/BATCH_OPERATIONS').set(admin.auth).expect(200);
    expect(res.body).toMatchObject({
      name: 'BATCH_OPERATIONS',
      enabled: false,
      rollout: 0,
      whitelist: [],
      blacklist: [],
    });
  });

  it.each([
    ['get', '/feature-flags'],
    ['get', '/feature-flags/BATCH_OPERATIONS'],
    ['put', '/feature-flags/X_FLAG'],
    ['patch', '/feature-flags/BATCH_OPERATIONS'],
    ['delete', '/feature-flags/BATCH_OPERATIONS'],
    ['get', '/feature-flags/BATCH_OPERATIONS/audit'],
    ['get', '/feature-flags/BATCH_OPERATIONS/evaluate?userId=u1'],
  ] as const)('%s %s is 403 FORBIDDEN for a non-admin', async (method, url) => {
    const user = givenUser(sut);
    const res = await sut.http()[method](url).set(user.auth).send({ enabled: true, rollout: 1 }).expect(403);
    expect(res.body.code).toBe('FORBIDDEN');
  });

  it('gates POST /batches: off → 403, whitelisted user → 202, rollout 100 → everyone; changes seen on the next request', async () => {
    const admin = givenUser(sut, { admin: true });
    const alice = givenUser(sut);
    const bob = givenUser(sut);
    const off = await sut.http().post('/batches').set(alice.auth).send(batchBody).expect(403);
    expect(off.body.code).toBe('FEATURE_DISABLED');
    await sut.http().get('/batches').set(alice.auth).expect(403);

    await sut
      .http()
      .put('/feature-flags/BATCH_OPERATIONS')
      .set(admin.auth)
      .send({ enabled: true, rollout: 0, whitelist: [alice.userId] })
      .expect(200);
    await sut.http().post('/batches').set(alice.auth).send(batchBody).expect(202);
    await sut.http().post('/batches').set(bob.auth).send(batchBody).expect(403);
    const features = await sut.http().get('/me/features').set(alice.auth).expect(200);
    expect(features.body.BATCH_OPERATIONS).toEqual({ enabled: true, reason: 'TARGETING_MATCH' });

    await sut
      .http()
      .patch('/feature-flags/BATCH_OPERATIONS')
      .set(admin.auth)
      .send({ rollout: 100 })
      .expect(200);
    await sut.http().post('/batches').set(bob.auth).send(batchBody).expect(202);

    await sut
      .http()
      .patch('/feature-flags/BATCH_OPERATIONS')
      .set(admin.auth)
      .send({ enabled: false })
      .expect(200);
    await sut.http().post('/batches').set(alice.auth).send(batchBody).expect(403);
  });

  it('creates, patches, lists, evaluates and deletes a flag, auditing each change', async () => {
    const admin = givenUser(sut, { admin: true });
    const put = await sut
      .http()
      .put('/feature-flags/NEW_SEARCH')
      .set(admin.auth)
      .set('X-Correlation-ID', 'flag-create-1')
      .send({
        enabled: true,
        rollout: 12.5,
        blacklist: ['u-x'],
        description: 'new search',
        metadata: { team: 'a' },
      })
      .expect(200);
    expect(put.body).toMatchObject({
      name: 'NEW_SEARCH',
      enabled: true,
      rollout: 12.5,
      blacklist: ['u-x'],
      updatedBy: admin.userId,
    });
    await sut
      .http()
      .patch('/feature-flags/NEW_SEARCH')
      .set(admin.auth)
      .set('X-Correlation-ID', 'flag-patch-1')
      .send({ rollout: 50 })
      .expect(200);
    const list = await sut.http().get('/feature-flags').set(admin.auth).expect(200);
    expect(list.body.data.map((f: { name: string }) => f.name)).toEqual(
      expect.arrayContaining(['BATCH_OPERATIONS', 'NEW_SEARCH']),
    );
    const explain = await sut
      .http()
      .get('/feature-flags/NEW_SEARCH/evaluate?userId=u-x')
      .set(admin.auth)
      .expect(200);
    expect(explain.body).toEqual({ enabled: false, reason: 'TARGETING_MATCH', bucket: expect.any(Number) });
    await sut
      .http()
      .delete('/feature-flags/NEW_SEARCH')
      .set(admin.auth)
      .set('X-Correlation-ID', 'flag-delete-1')
      .expect(204);
    await sut.http().get('/feature-flags/NEW_SEARCH').set(admin.auth).expect(404);
    const missing = await sut
      .http()
      .get('/feature-flags/NEW_SEARCH/evaluate?userId=u1')
      .set(admin.auth)
      .expect(200);
    expect(missing.body).toMatchObject({ enabled: false, reason: 'ERROR' });

    const audit = await sut.http().get('/feature-flags/NEW_SEARCH/audit').set(admin.auth).expect(200);
    expect(audit.body.data.map((a: { action: string }) => a.action)).toEqual(['delete', 'update', 'create']);
    expect(audit.body.data.map((a: { correlationId: string }) => a.correlationId)).toEqual([
      'flag-delete-1',
      'flag-patch-1',
      'flag-create-1',
    ]);
    expect(audit.body.data[1]).toMatchObject({
      actor: admin.userId,
      before: { rollout: 12.5 },
      after: { rollout: 50 },
    });
    expect(audit.body.data[0]).toMatchObject({ after: null, before: { name: 'NEW_SEARCH' } });
  });

  it.each([
    ['a bad name', '/feature-flags/lower_case', { enabled: true, rollout: 1 }],
    ['rollout over 100', '/feature-flags/OK_NAME', { enabled: true, rollout: 100.5 }],
    ['three decimals', '/feature-flags/OK_NAME', { enabled: true, rollout: 1.234 }],
    ['duplicate ids', '/feature-flags/OK_NAME', { enabled: true, rollout: 1, whitelist: ['a', 'a'] }],
    ['a missing field', '/feature-flags/OK_NAME', { rollout: 1 }],
    ['an unknown field', '/feature-flags/OK_NAME', { enabled: true, rollout: 1, color: 'red' }],
    ['a non-string id', '/feature-flags/OK_NAME', { enabled: true, rollout: 1, blacklist: [42] }],
  ])('rejects %s with 400 and stores nothing', async (_name, url, body) => {
    const admin = givenUser(sut, { admin: true });
    const before = await sut.prisma.featureFlagAudit.count();
    const res = await sut.http().put(url).set(admin.auth).send(body).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(await sut.prisma.featureFlagAudit.count()).toBe(before);
    expect(await sut.prisma.featureFlag.findUnique({ where: { name: 'OK_NAME' } })).toBeNull();
  });

  it('PATCH of a missing flag is 404 and audits nothing', async () => {
    const admin = givenUser(sut, { admin: true });
    const before = await sut.prisma.featureFlagAudit.count();
    await sut.http().patch('/feature-flags/NOT_THERE').set(admin.auth).send({ enabled: true }).expect(404);
    expect(await sut.prisma.featureFlagAudit.count()).toBe(before);
  });
});
