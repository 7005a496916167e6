import fs from 'node:fs';
import { clearOfWindowEnd, until } from '../support/wait';
import path from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { givenBatchFeatureOn, givenUser } from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';

async function readLogs(dir: string, needle: string, timeoutMs = 3000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('application-')) : [];
    const lines = files
      .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n'))
      .filter((l) => l.includes(needle));
    if (lines.length > 0 || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Common layer (e2e)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await givenApp({ MAX_BODY_BYTES: '4096', RATE_LIMIT_BATCH_OPERATIONS: '10/3600' });
    await givenBatchFeatureOn(sut);
  });
  afterAll(() => sut.close());

  it('GET /health is public and checks the database', async () => {
    // The conformance run has Redis configured, which /health then reports too.
    const expected = sut.config.REDIS_URL
      ? { status: 'ok', db: 'ok', redis: 'ok' }
      : { status: 'ok', db: 'ok' };
    await sut.http().get('/health').expect(200, expected);
  });

  it('serves the OpenAPI document at /docs', async () => {
    const res = await sut.http().get('/docs-json').expect(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/batches', '/feature-flags/{name}', '/health']),
    );
  });

  describe('authentication', () => {
    const jwt = new JwtService();

    it.each([
      ['no token', undefined],
      ['a malformed token', 'Bearer not-a-jwt'],
      [
        'a token signed with another secret',
        `Bearer ${jwt.sign({ sub: 'u1', roles: [] }, { secret: 'another-secret-entirely-x' })}`,
      ],
      ['an expired token', 'expired'],
      ['a token without sub', 'nosub'],
    ])('rejects %s with 401 UNAUTHENTICATED', async (_name, header) => {
      let value = header;
      if (header === 'expired') value = `Bearer ${sut.tokenFor('u1', { expiresInSeconds: -10 })}`;
      if (header === 'nosub') value = `Bearer ${jwt.sign({ roles: [] }, { secret: sut.config.JWT_SECRET })}`;
      const req = sut.http().get('/me/features');
      if (value) void req.set('Authorization', value);
      const res = await req.expect(401);
      expect(res.body).toEqual({
        statusCode: 401,
        code: 'UNAUTHENTICATED',
        message: expect.any(String),
        correlationId: expect.any(String),
      });
    });

    it('refuses a token it accepted once, after its exp and with one character changed', async () => {
      // Verified tokens are remembered until their exp: neither may outlive what was verified.
      const token = sut.tokenFor('short-lived', { expiresInSeconds: 2 });
      const exp = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number })
        .exp;
      await sut.http().get('/me/features').set('Authorization', `Bearer ${token}`).expect(200);
      const [header, payload, signature] = token.split('.');
      const middle = signature.length >> 1;
      const changed = `${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
      await sut
        .http()
        .get('/me/features')
        .set('Authorization', `Bearer ${header}.${payload}.${changed}`)
        .expect(401);
      await until('the token to expire', () => Date.now() >= exp * 1000, 5000);
      const res = await sut.http().get('/me/features').set('Authorization', `Bearer ${token}`).expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });

    it('gives a non-admin 403 FORBIDDEN on an admin route', async () => {
      const user = givenUser(sut);
      const res = await sut.http().get('/feature-flags').set(user.auth).expect(403);
      expect(res.body.code).toBe('FORBIDDEN');
    });
  });

  describe('correlation ids', () => {
    it('keeps a well-formed id, echoes it and writes it into the request’s log lines', async () => {
      const admin = givenUser(sut, { admin: true });
      const id = `test-corr.${Date.now()}:ok`;
      const res = await sut
        .http()
        .get('/feature-flags')
        .set(admin.auth)
        .set('X-Correlation-ID', id)
        .expect(200);
      expect(res.headers['x-correlation-id']).toBe(id);
      await sut
        .http()
        .patch('/feature-flags/BATCH_OPERATIONS')
        .set(admin.auth)
        .set('X-Correlation-ID', id)
        .send({ rollout: 100 })
        .expect(200);
      const lines = await readLogs(path.join(sut.db.dir, 'logs'), id);
      expect(lines.length).toBeGreaterThan(0);
      const entry = JSON.parse(lines[0]);
      expect(entry).toMatchObject({
        correlationId: id,
        userId: admin.userId,
        level: 'info',
        timestamp: expect.any(String),
      });
      expect(lines.join('\n')).not.toContain(admin.token);
    });

    it.each([
      ['a 10 KB id', 'a'.repeat(10_240)],
      ['quotes', 'abc"def'],
      ['spaces', 'abc def'],
      ['a 129-char id', 'b'.repeat(129)],
      ['an empty id', ''],
    ])('replaces %s with a UUID v4', async (_name, bad) => {
      const res = await sut.http().get('/health').set('X-Correlation-ID', bad).expect(200);
      expect(res.headers['x-correlation-id']).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    });

    it('puts the id into error bodies too', async () => {
      const res = await sut.http().get('/batches').set('X-Correlation-ID', 'err-1').expect(401);
      expect(res.body.correlationId).toBe('err-1');
    });
  });

  describe('bad bodies', () => {
    it('answers malformed JSON with 400 VALIDATION_FAILED', async () => {
      const user = givenUser(sut);
      const res = await sut
        .http()
        .post('/batches')
        .set(user.auth)
        .set('Content-Type', 'application/json')
        .send('{"operation": ')
        .expect(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', correlationId: expect.any(String) });
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.js/);
    });

    it('answers a body over MAX_BODY_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
      const user = givenUser(sut);
      const res = await sut
        .http()
        .post('/batches')
        .set(user.auth)
        .send({ operation: 'diagnostics.echo', items: [{ blob: 'x'.repeat(8000) }] })
        .expect(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('answers an unknown route with the error shape', async () => {
      const user = givenUser(sut);
      const res = await sut.http().get('/nope').set(user.auth).expect(404);
      expect(res.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    });
  });

  describe('database-backed rate limit', () => {
    it('lets exactly L of N parallel requests through and answers the rest 429 with headers', async () => {
      await clearOfWindowEnd(3_600_000);
      const user = givenUser(sut);
      const responses = await Promise.all(
        Array.from({ length: 200 }, () =>
          sut
            .http()
            .post('/batches')
            .set(user.auth)
            .send({ operation: 'diagnostics.echo', items: [{ n: 1 }] }),
        ),
      );
      const accepted = responses.filter((r) => r.status === 202);
      const limited = responses.filter((r) => r.status === 429);
      expect(accepted).toHaveLength(10);
      expect(limited).toHaveLength(190);
      expect(accepted[0].headers['x-ratelimit-limit']).toBeDefined();
      const sample = limited[0];
      expect(sample.body).toMatchObject({
        code: 'RATE_LIMITED',
        details: { violatedPolicies: [expect.objectContaining({ policy: 'BATCH_OPERATIONS' })] },
      });
      expect(Number(sample.headers['retry-after'])).toBeGreaterThan(0);
      expect(sample.headers['x-ratelimit-limit']).toBe('10');
      expect(sample.headers['x-ratelimit-remaining']).toBe('0');
      expect(Number(sample.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
      expect(sample.headers['ratelimit-policy']).toContain('"BATCH_OPERATIONS";q=10;w=3600');
      expect(sample.headers['ratelimit']).toContain('"BATCH_OPERATIONS";r=0');
      const stored = await sut.prisma.batchOperation.count({ where: { userId: user.userId } });
      expect(stored).toBe(10);
    });
  });
});
