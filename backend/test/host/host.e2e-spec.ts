import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { io, Socket } from 'socket.io-client';
import { hostToken } from './host-auth.guard';
import { createHostApp, prepareHostDatabase } from './host-app';
import { freePort } from '../support/server-process';
import { connectedSocket } from '../support/sockets';
import { until } from '../support/wait';

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** A host token (`{ sub, email, jti }`, no role): `root` is ADMIN in the host's User table, the rest PARTICIPANT. */
const bearer = (userId: string) => ({ Authorization: `Bearer ${hostToken(userId)}` });

function logLines(file: string): Record<string, any>[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, any>);
}

describe('The modules inside a host monolith (its own logger, context, auth, limiter, Prisma and gateway)', () => {
  let dir: string;
  let app: NestExpressApplication;
  let origin: string;
  let base: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-'));
    prepareHostDatabase(path.join(dir, 'host.db'));
    app = await createHostApp({
      databaseFile: path.join(dir, 'host.db'),
      logFile: path.join(dir, 'host.log'),
      batchesPerHour: 3,
    });
    await app.listen(0, '127.0.0.1');
    origin = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    base = `${origin}/api`;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gates the batch routes with the flag, toggled through the audited admin API with the host’s admin role', async () => {
    const res = await request(base).get('/batches').set(bearer('alice')).expect(403);
    expect(res.body.code).toBe('FEATURE_DISABLED');
    await request(base).get('/feature-flags').set(bearer('alice')).expect(403);
    await request(base).get('/batches').expect(401);
    await request(base)
      .put('/feature-flags/BATCH_OPERATIONS')
      .set(bearer('root'))
      .send({ enabled: true, rollout: 100 })
      .expect(200);
    await request(base).get('/batches').set(bearer('alice')).expect(200);
    const audit = await request(base)
      .get('/feature-flags/BATCH_OPERATIONS/audit')
      .set(bearer('root'))
      .expect(200);
    expect(audit.body.data[0]).toMatchObject({ actor: 'root', action: 'update' });
  });

  it('creates and reads a batch with the host’s auth; progress reaches the owner’s authenticated sockets, never an anonymous one on the host’s gateway', async () => {
    const hostSocket = io(`${origin}/theme-extraction`, { transports: ['websocket'] });
    sockets.push(hostSocket);
    await new Promise<void>((resolve) => hostSocket.once('connect', () => resolve()));
    // The host's gateway lets anyone join any user's room, unauthenticated: the module never
    // delivers there by default, so this anonymous socket must hear nothing.
    expect(await hostSocket.emitWithAck('join', 'bob')).toEqual({ success: true, userId: 'bob' });
    const hostEvents: Record<string, any>[] = [];
    hostSocket.onAny((_event: string, p: Record<string, any>) => hostEvents.push(p));
    // The module's own namespace, authenticated with the host's tokens through the auth port.
    const moduleSocket = await connectedSocket(origin, hostToken('bob'));
    sockets.push(moduleSocket);
    const completions: Record<string, any>[] = [];
    moduleSocket.on('batch-complete', (p: Record<string, any>) => completions.push(p));

    const created = await request(base)
      .post('/batches')
      .set(bearer('bob'))
      .set('X-Correlation-ID', 'host-corr-1')
      .send({
        operation: 'diagnostics.echo',
        items: Array.from({ length: 300 }, (_, n) => ({ n })),
        options: { chunkSize: 25 },
      })
      .expect(202);
    // The URL the module emits honours the host's global prefix.
    expect(created.headers.location).toBe(`/api/batches/${created.body.id}`);
    expect(created.headers['x-ratelimit-limit']).toBe('3');
    const id = created.body.id as string;
    await until('completion on the module socket', () => completions.some((c) => c.batchId === id));
    const final = await request(base).get(`/batches/${id}`).set(bearer('bob')).expect(200);
    expect(final.body).toMatchObject({
      status: 'completed',
      succeededCount: 300,
      correlationId: 'host-corr-1',
    });
    expect(completions.find((c) => c.batchId === id)).toMatchObject({ userId: 'bob', percentage: 100 });
    expect(hostEvents).toEqual([]);
    await request(base).get(`/batches/${id}`).set(bearer('mallory')).expect(404);

    // The host's logger ignores the async context; the module hands it the request's
    // correlation id, the batch and the user on every line of the batch (created, each chunk, finished).
    await until('log lines', () =>
      logLines(path.join(dir, 'host.log')).some((l) => l.event === 'batch.finished' && l.batchId === id),
    );
    const ofBatch = logLines(path.join(dir, 'host.log')).filter((l) => l.batchId === id);
    expect(ofBatch.length).toBeGreaterThanOrEqual(14);
    for (const line of ofBatch) expect(line).toMatchObject({ correlationId: 'host-corr-1', batchId: id });
    expect(ofBatch.filter((l) => l.event === 'batch.created')).toHaveLength(1);
    expect(ofBatch.find((l) => l.event === 'batch.created')).toMatchObject({ userId: 'bob' });
    expect(ofBatch.filter((l) => l.message === 'batch.chunk').length).toBeGreaterThanOrEqual(12);
    expect(ofBatch.filter((l) => l.message === 'batch.chunk').every((l) => l.userId === 'bob')).toBe(true);
    expect(ofBatch.filter((l) => l.event === 'batch.finished')).toHaveLength(1);
  });

  it('authenticates module routes and sockets by itself, with the role from the host’s user table, and honours a socket token’s expiry', async () => {
    // The host's guard is per controller: it guards the host's routes only.
    await request(base).get('/profile').expect(401);
    expect((await request(base).get('/profile').set(bearer('alice')).expect(200)).body).toMatchObject({
      userId: 'alice',
    });
    // Module routes authenticate through the auth port; ADMIN (from the User table) is the modules' admin.
    await request(base).get('/batches').expect(401);
    await request(base).get('/feature-flags').set(bearer('alice')).expect(403);
    await request(base).get('/feature-flags').set(bearer('root')).expect(200);
    // A socket is disconnected when its token expires.
    const socket = await connectedSocket(origin, hostToken('short-lived', 2));
    sockets.push(socket);
    const connectedAt = Date.now();
    await until('the expired socket disconnected', () => socket.disconnected, 6_000);
    expect(Date.now() - connectedAt).toBeLessThan(4_000);
  });

  it('keeps the contract’s error shape on module routes under a host filter that rewrites every other error', async () => {
    // A host route: the host's own shape.
    const host = await request(base).get('/no-such-route').set(bearer('alice')).expect(404);
    expect(host.body).toMatchObject({ errorCode: 'ERROR' });
    expect(host.body.code).toBeUndefined();
    // Module routes: the contract's, with its codes and details.
    const missing = await request(base).get('/batches/nope').set(bearer('alice')).expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    expect(missing.body.errorCode).toBeUndefined();
    const forbidden = await request(base).get('/feature-flags').set(bearer('alice')).expect(403);
    expect(forbidden.body.code).toBe('FORBIDDEN');
    const invalid = await request(base)
      .post('/batches')
      .set(bearer('alice'))
      .send({ operation: 'diagnostics.echo', items: 'many' })
      .expect(400);
    expect(invalid.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(invalid.body.details).toBeDefined();
  });

  it('answers 413 for a body over its own limit, whatever the host’s 50 MB parser let through, and stores nothing', async () => {
    const before = (await request(base).get('/batches').set(bearer('frank')).expect(200)).body.data.length;
    const big = 'x'.repeat(1150);
    const res = await request(base)
      .post('/batches')
      .set(bearer('frank'))
      .send({ operation: 'diagnostics.echo', items: Array.from({ length: 10_000 }, (_, n) => ({ n, big })) })
      .expect(413);
    expect(res.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await request(base).get('/batches').set(bearer('frank')).expect(200)).body.data).toHaveLength(
      before,
    );
  });

  it('enforces BATCH_OPERATIONS with the module’s own limiter (exactly L of N at once), in the contract’s 429 shape', async () => {
    const body = { operation: 'diagnostics.echo', items: [{ n: 1 }] };
    for (let i = 0; i < 3; i++)
      await request(base).post('/batches').set(bearer('carol')).send(body).expect(202);
    const refused = await request(base).post('/batches').set(bearer('carol')).send(body).expect(429);
    expect(refused.body).toMatchObject({
      code: 'RATE_LIMITED',
      details: { violatedPolicies: [{ policy: 'BATCH_OPERATIONS' }] },
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['x-ratelimit-limit']).toBe('3');
    expect(refused.headers['ratelimit-policy']).toBeDefined();
    // Exactly L of N under concurrency, charged by the module's own limiter (the host's has no all-or-nothing call).
    const burst = await Promise.all(
      Array.from({ length: 50 }, () => request(base).post('/batches').set(bearer('grace')).send(body)),
    );
    expect(burst.filter((r) => r.status === 202)).toHaveLength(3);
    expect(burst.filter((r) => r.status === 429)).toHaveLength(47);
    expect(burst.every((r) => r.status === 202 || r.body.code === 'RATE_LIMITED')).toBe(true);
    // Bad input is not charged.
    await request(base)
      .post('/batches')
      .set(bearer('dave'))
      .send({ operation: 'diagnostics.echo', items: [] })
      .expect(400);
  });
});

describe('A host process that dies mid-batch (SIGKILL, or its own process.exit(0) on SIGTERM)', () => {
  it.each(['SIGKILL', 'SIGTERM'] as const)(
    '%s: loses nothing, and a restarted host goes on within seconds, not after the 30 s lease',
    async (signal) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-crash-'));
      const file = path.join(dir, 'host.db');
      prepareHostDatabase(file);
      const start = async (): Promise<{ child: ChildProcess; base: string }> => {
        const port = await freePort();
        const child = spawn(
          process.execPath,
          [
            path.join(ROOT, 'node_modules', '.bin', 'ts-node'),
            '--transpile-only',
            path.join(__dirname, 'host-main.ts'),
          ],
          {
            cwd: ROOT,
            env: {
              ...process.env,
              HOST_DB: file,
              HOST_LOG: path.join(dir, 'host.log'),
              PORT: String(port),
            },
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        let stderr = '';
        child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        const base = `http://127.0.0.1:${port}/api`;
        await until(
          'host start',
          async () => {
            // A host that died while starting fails the test now, with its own words.
            if (child.exitCode !== null || child.signalCode !== null)
              throw new Error(`the host exited while starting: ${stderr}`);
            return (await fetch(`${base}/health`).catch(() => null))?.ok === true;
          },
          60_000,
        );
        return { child, base };
      };
      const read = () => {
        const db = new Database(file, { readonly: true });
        try {
          return db.prepare('SELECT * FROM "BatchOperation"').get() as Record<string, any>;
        } finally {
          db.close();
        }
      };
      try {
        let host = await start();
        await request(host.base)
          .put('/feature-flags/BATCH_OPERATIONS')
          .set(bearer('root'))
          .send({ enabled: true, rollout: 100 })
          .expect(200);
        await request(host.base)
          .post('/batches')
          .set(bearer('erin'))
          .send({
            operation: 'diagnostics.echo',
            items: Array.from({ length: 400 }, (_, n) => ({ n, delayMs: 5 })),
            options: { chunkSize: 10 },
          })
          .expect(202);
        await until('some progress', () => (read()?.processedCount ?? 0) >= 60);
        host.child.kill(signal);
        await new Promise((r) => host.child.once('exit', r));
        expect(read().finishedAt).toBeNull();
        host = await start();
        const restartedAt = Date.now();
        await until('completion', () => read().finishedAt !== null, 90_000);
        // The remaining items take ~2 s; the dead process's chunk is taken over at once.
        expect(Date.now() - restartedAt).toBeLessThan(12_000);
        expect(read()).toMatchObject({
          status: 'completed',
          processedCount: 400,
          succeededCount: 400,
          failedCount: 0,
        });
        const db = new Database(file, { readonly: true });
        const counts = db
          .prepare(`SELECT "status", COUNT(*) AS n FROM "BatchJobItem" GROUP BY "status"`)
          .all();
        db.close();
        expect(counts).toEqual([{ status: 'success', n: 400 }]);
        host.child.kill('SIGTERM');
        await new Promise((r) => host.child.once('exit', r));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
