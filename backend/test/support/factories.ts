import { randomUUID } from 'node:crypto';
import type { TestApp } from './test-app';

export interface TestUser {
  userId: string;
  token: string;
  auth: { Authorization: string };
}

export function givenUser(sut: TestApp, options: { admin?: boolean; userId?: string } = {}): TestUser {
  const userId = options.userId ?? `${options.admin ? 'admin' : 'user'}-${randomUUID().slice(0, 8)}`;
  const token = sut.tokenFor(userId, { admin: options.admin });
  return { userId, token, auth: { Authorization: `Bearer ${token}` } };
}

/** Turns BATCH_OPERATIONS on for everyone through the admin API. */
export async function givenBatchFeatureOn(sut: TestApp): Promise<void> {
  const admin = givenUser(sut, { admin: true });
  await sut
    .http()
    .put('/feature-flags/BATCH_OPERATIONS')
    .set(admin.auth)
    .send({ enabled: true, rollout: 100 })
    .expect(200);
}

export function echoItems(count: number, extra: Record<string, unknown> = {}): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({ n: i, ...extra }));
}

export function paperItems(count: number, prefix = 'p'): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    title: `Paper ${prefix} ${i}`,
    doi: `10.1000/${prefix}-${i}`,
    year: 2000 + (i % 20),
  }));
}

export async function givenBatch(
  sut: TestApp,
  user: TestUser,
  body: {
    operation?: string;
    items: Record<string, unknown>[];
    options?: Record<string, unknown>;
    metadata?: Record<string, unknown>;
  },
): Promise<{ id: string; key: number; [field: string]: unknown }> {
  const res = await sut
    .http()
    .post('/batches')
    .set(user.auth)
    .send({ operation: 'diagnostics.echo', ...body });
  if (res.status !== 202)
    throw new Error(`POST /batches answered ${res.status}: ${JSON.stringify(res.body)}`);
  // The engine's own key beside the public view: tests that play the worker by hand need it.
  const { key } = await sut.prisma.batchOperation.findUniqueOrThrow({
    where: { id: (res.body as { id: string }).id },
    select: { key: true },
  });
  return { ...(res.body as { id: string }), key };
}

/** Polls GET /batches/:id until `done` holds (finished by default). */
export async function waitForBatch(
  sut: TestApp,
  user: TestUser,
  id: string,
  done: (b: Record<string, any>) => boolean = (b) => b.finishedAt !== null,
  timeoutMs = 60_000,
): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await sut.http().get(`/batches/${id}`).set(user.auth);
    if (res.status === 200 && done(res.body)) return res.body;
    if (Date.now() > deadline)
      throw new Error(`batch ${id} did not reach the expected state: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
