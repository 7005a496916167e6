import path from 'node:path';
import { OpenFeature } from '@openfeature/server-sdk';
import request from 'supertest';
import { FeatureFlagsProvider, FeatureFlagsService } from '../../src/modules/feature-flags';
import { echoItems, givenUser, TestUser } from '../support/factories';
import { connectedSocket } from '../support/sockets';
import { spawnServer, ServerProcess } from '../support/server-process';
import { givenDatabase, TempDatabase } from '../support/temp-database';
import { givenApp, TestApp } from '../support/test-app';
import { devAuth, until } from '../support/wait';

const FLAG = 'BATCH_OPERATIONS';
const FAST = {
  ROLLOUT_EVALUATION_MS: '150',
  FEATURE_FLAG_CACHE_MS: '100',
  BATCH_RETRY_BASE_MS: '10',
  RATE_LIMIT_BATCH_OPERATIONS: '1000000/3600',
  RATE_LIMIT_BATCH_ITEM_PROCESSING: '1000000/3600',
};
const TESTERS = ['tester-1', 'tester-2', 'tester-3'];

type Plan = {
  state: string;
  step: number;
  rollout: number;
  guards: Record<string, { value: number | null; samples: number; status: string; max: number }>;
  history: {
    n: number;
    action: string;
    step: number;
    rollout: number;
    enabled: boolean;
    actor: string;
    reason?: string;
    guards?: Record<string, { value: number; samples: number; status: string }>;
  }[];
};

/**
 * Guarded rollouts (contract v3, "Rollout plans"): plans that move BATCH_OPERATIONS by
 * themselves on a compressed schedule (evaluation every 150 ms, steps of 1 s), measured on
 * the flag's own cohort, with real HTTP traffic of 83 users and real batches.
 * Rounds are spaced so the engine keeps up (a backlog would delay what the guards see).
 */
describe('Rollout plans', () => {
  let sut: TestApp;
  let admin: TestUser;
  const users = [...TESTERS, ...Array.from({ length: 80 }, (_, i) => `cohort-user-${i}`)];

  beforeAll(async () => {
    sut = await givenApp(FAST);
    admin = givenUser(sut, { admin: true });
  });
  afterAll(() => sut.close());

  const plan = async (app = sut) =>
    (await app.http().get(`/feature-flags/${FLAG}/rollout-plan`).set(admin.auth).expect(200)).body as Plan;
  const flag = async () => (await sut.http().get(`/feature-flags/${FLAG}`).set(admin.auth).expect(200)).body;
  const resetFlag = (app = sut) =>
    app
      .http()
      .put(`/feature-flags/${FLAG}`)
      .set(admin.auth)
      .send({ enabled: false, rollout: 0, whitelist: TESTERS })
      .expect(200);

  const startPlan = (body: object) =>
    sut.http().put(`/feature-flags/${FLAG}/rollout-plan`).set(admin.auth).send(body).expect(200);

  /** Every user the flag lets in creates a batch of `items`; the rest get 403. Returns how many were let in. */
  async function trafficRound(items: Record<string, unknown>[], app = sut): Promise<number> {
    const answers = await Promise.all(
      users.map((userId) =>
        app
          .http()
          .post('/batches')
          .set({ Authorization: `Bearer ${app.tokenFor(userId)}` })
          .send({ operation: 'diagnostics.echo', items }),
      ),
    );
    for (const a of answers) expect([202, 403]).toContain(a.status);
    return answers.filter((a) => a.status === 202).length;
  }

  /** Keeps the cohort busy until `done` says so. */
  async function trafficUntil(
    what: string,
    items: Record<string, unknown>[],
    done: () => Promise<boolean>,
    app = sut,
  ) {
    await until(
      what,
      async () => {
        await trafficRound(items, app);
        await new Promise((r) => setTimeout(r, 100));
        return done();
      },
      60_000,
    );
  }

  it('validates plans and answers 404 for a flag or plan that does not exist', async () => {
    const put = (body: unknown, name = FLAG) =>
      sut
        .http()
        .put(`/feature-flags/${name}/rollout-plan`)
        .set(admin.auth)
        .send(body as object);
    const bad = await put({ steps: [{ rollout: 50 }, { rollout: 5 }], minStepSeconds: [1] }).expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(bad.body.details.errors.join(' ')).toMatch(/minStepSeconds must have one entry per step/);
    expect(bad.body.details.errors.join(' ')).toMatch(/steps must not lower the rollout/);
    await put({
      steps: [{ rollout: 5 }],
      minStepSeconds: 1,
      guards: { itemFailureRate: { max: 2, minSamples: 1 } },
    }).expect(400);
    await put({ steps: [{ whitelistOnly: false }], minStepSeconds: 1 }).expect(400);
    await put({ steps: [{ rollout: 5 }], minStepSeconds: 1, extra: true }).expect(400);
    await put({ steps: [{ rollout: 5 }], minStepSeconds: 1 }, 'NO_SUCH_FLAG').expect(404);
    await sut.http().get(`/feature-flags/${FLAG}/rollout-plan`).set(admin.auth).expect(404);
    await sut.http().post(`/feature-flags/${FLAG}/rollout-plan/pause`).set(admin.auth).expect(404);
    const user = givenUser(sut);
    await sut.http().get(`/feature-flags/${FLAG}/rollout-plan`).set(user.auth).expect(403);
    // Nothing was stored by any of them.
    expect((await sut.http().get(`/feature-flags/${FLAG}/audit`).set(admin.auth)).body.data).toEqual([]);
  });

  it('goes whitelist → 5 → 25 → 50 → 100 by itself while every guard holds, audited and pushed to admins only', async () => {
    await resetFlag();
    const adminSocket = await connectedSocket(sut.baseUrl, admin.token);
    const userSocket = await connectedSocket(sut.baseUrl, givenUser(sut).token);
    const heard: Record<string, unknown>[] = [];
    const userHeard: unknown[] = [];
    adminSocket.on('flag-rollout', (e: Record<string, unknown>) => heard.push(e));
    userSocket.on('flag-rollout', (e: unknown) => userHeard.push(e));
    try {
      const put = await startPlan({
        steps: [{ whitelistOnly: true }, { rollout: 5 }, { rollout: 25 }, { rollout: 50 }, { rollout: 100 }],
        // The first step outlasts the first round of 83 requests (over 1 s on a loaded machine:
        // the plan advanced mid-round once and let 2 of the cohort in).
        minStepSeconds: [5, 1, 1, 1, 1],
        guards: {
          itemFailureRate: { max: 0.2, minSamples: 6 },
          serverErrorRate: { max: 0.05, minSamples: 3 },
          p95LatencyMs: { max: 10_000, minSamples: 3 },
          databaseBusyRate: { max: 0.05, minSamples: 3 },
        },
        onBreach: 'previous',
      });
      expect(put.body).toMatchObject({
        state: 'active',
        step: 0,
        rollout: 0,
        minStepSeconds: [5, 1, 1, 1, 1],
      });
      // The first step lets the testers in, nobody else.
      expect(await flag()).toMatchObject({ enabled: true, rollout: 0 });
      expect(await trafficRound(echoItems(3))).toBe(TESTERS.length);

      await trafficUntil(
        'the plan completed',
        echoItems(3),
        async () => (await plan()).state === 'completed',
      );
      const done = await plan();
      expect(done.history.map((h) => [h.action, h.rollout])).toEqual([
        ['started', 0],
        ['advanced', 5],
        ['advanced', 25],
        ['advanced', 50],
        ['advanced', 100],
        ['completed', 100],
      ]);
      for (const h of done.history.slice(1)) {
        expect(h.actor).toBe('rollout-plan');
        // Each move was decided on enough samples of every guard, all holding.
        for (const g of Object.values(h.guards ?? {})) expect(g.status).toBe('ok');
        expect(Object.keys(h.guards ?? {}).sort()).toEqual([
          'databaseBusyRate',
          'itemFailureRate',
          'p95LatencyMs',
          'serverErrorRate',
        ]);
      }
      expect(await flag()).toMatchObject({ enabled: true, rollout: 100, updatedBy: 'rollout-plan' });
      expect(await trafficRound(echoItems(1))).toBe(users.length);

      const audit = (await sut.http().get(`/feature-flags/${FLAG}/audit`).set(admin.auth)).body.data as {
        action: string;
        actor: string;
        after: { rollout: number; rolloutPlan?: { guards?: object } };
      }[];
      const moves = audit.filter((a) => a.action === 'rollout-plan.advanced').reverse();
      expect(moves.map((a) => [a.actor, a.after.rollout])).toEqual([
        ['rollout-plan', 5],
        ['rollout-plan', 25],
        ['rollout-plan', 50],
        ['rollout-plan', 100],
      ]);
      for (const m of moves) expect(m.after.rolloutPlan?.guards).toHaveProperty('itemFailureRate');

      await until('the admin socket heard every move', () => heard.length >= 5);
      expect(heard.map((e) => [e.action, e.rollout])).toEqual([
        ['advanced', 5],
        ['advanced', 25],
        ['advanced', 50],
        ['advanced', 100],
        ['completed', 100],
      ]);
      expect(heard[0]).toMatchObject({
        flag: FLAG,
        step: 1,
        guards: expect.any(Object),
        at: expect.any(String),
      });
      expect(userHeard).toEqual([]);
    } finally {
      adminSocket.close();
      userSocket.close();
    }
  });

  it('rolls the flag back at the next evaluation when the cohort’s items start failing, and says why', async () => {
    await resetFlag();
    await startPlan({
      steps: [{ rollout: 30 }, { rollout: 60 }],
      minStepSeconds: 3600,
      guards: { itemFailureRate: { max: 0.2, minSamples: 20 } },
      onBreach: 'off',
    });
    const inCohort = await trafficRound(echoItems(2));
    expect(inCohort).toBeGreaterThan(10);
    // The operation starts failing for the cohort.
    await trafficUntil(
      'the plan rolled back',
      [{ failPermanently: true }, { failPermanently: true }],
      async () => (await plan()).state === 'halted',
    );
    const halted = await plan();
    const rollback = halted.history[halted.history.length - 1];
    expect(rollback).toMatchObject({ action: 'rolled_back', enabled: false, actor: 'rollout-plan' });
    expect(rollback.reason).toMatch(/itemFailureRate .* > 0.2/);
    expect(rollback.guards?.itemFailureRate.status).toBe('breached');
    expect(rollback.guards?.itemFailureRate.samples).toBeGreaterThanOrEqual(20);
    expect(await flag()).toMatchObject({ enabled: false });
    expect(await trafficRound(echoItems(1))).toBe(0);
    // Halted: nothing moves any more, and pause is refused; resume starts the step again.
    await new Promise((r) => setTimeout(r, 500));
    expect((await plan()).history).toHaveLength(halted.history.length);
    await sut.http().post(`/feature-flags/${FLAG}/rollout-plan/pause`).set(admin.auth).expect(409);
    const aborted = await sut
      .http()
      .post(`/feature-flags/${FLAG}/rollout-plan/abort`)
      .set(admin.auth)
      .expect(202);
    expect(aborted.body.state).toBe('aborted');
    await sut.http().post(`/feature-flags/${FLAG}/rollout-plan/resume`).set(admin.auth).expect(409);
  });

  it('neither advances nor rolls back on too few samples', async () => {
    await resetFlag();
    await startPlan({
      steps: [{ rollout: 30 }, { rollout: 60 }],
      minStepSeconds: 1,
      guards: { itemFailureRate: { max: 0.2, minSamples: 1000 } },
    });
    // Failing items, but far fewer than the guard needs; and the step's time passes.
    await trafficRound([{ failPermanently: true }]);
    await new Promise((r) => setTimeout(r, 1500));
    const quiet = await plan();
    expect(quiet).toMatchObject({ state: 'active', step: 0 });
    expect(quiet.history.at(-1)?.action).toBe('started');
    expect(quiet.guards.itemFailureRate).toMatchObject({ status: 'insufficient', value: 1 });
    expect(quiet.guards.itemFailureRate.samples).toBeGreaterThan(0);
    expect(quiet.guards.itemFailureRate.samples).toBeLessThan(1000);
    await sut.http().delete(`/feature-flags/${FLAG}/rollout-plan`).set(admin.auth).expect(204);
    await sut.http().get(`/feature-flags/${FLAG}/rollout-plan`).set(admin.auth).expect(404);
  });

  it('answers through the OpenFeature SDK with the module’s values, reasons and targeting keys', async () => {
    await sut
      .http()
      .put(`/feature-flags/${FLAG}`)
      .set(admin.auth)
      .send({ enabled: true, rollout: 50, whitelist: ['vip'], blacklist: ['banned'] })
      .expect(200);
    await OpenFeature.setProviderAndWait(new FeatureFlagsProvider(sut.app.get(FeatureFlagsService)));
    const client = OpenFeature.getClient();
    try {
      for (const userId of ['vip', 'banned', ...users.slice(0, 30)]) {
        const explained = (
          await sut.http().get(`/feature-flags/${FLAG}/evaluate?userId=${userId}`).set(admin.auth).expect(200)
        ).body;
        const details = await client.getBooleanDetails(FLAG, !explained.enabled, { targetingKey: userId });
        expect([details.value, details.reason, details.flagMetadata.bucket ?? null]).toEqual([
          explained.enabled,
          explained.reason,
          explained.bucket,
        ]);
      }
      const missing = await client.getBooleanDetails('NO_SUCH_FLAG', true, { targetingKey: 'u1' });
      expect(missing).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
      const noKey = await client.getBooleanDetails(FLAG, false, {});
      expect(noKey).toMatchObject({ value: false, errorCode: 'TARGETING_KEY_MISSING' });
      const text = await client.getStringDetails(FLAG, 'x', { targetingKey: 'u1' });
      expect(text).toMatchObject({ value: 'x', errorCode: 'TYPE_MISMATCH' });
      await sut.http().patch(`/feature-flags/${FLAG}`).set(admin.auth).send({ enabled: false }).expect(200);
      expect(await client.getBooleanDetails(FLAG, true, { targetingKey: 'vip' })).toMatchObject({
        value: false,
        reason: 'DISABLED',
      });
    } finally {
      await OpenFeature.close();
    }
  });
});

describe('Rollout plans across instances', () => {
  let db: TempDatabase;
  let a: TestApp;
  let b: TestApp | null = null;

  beforeAll(async () => {
    db = await givenDatabase();
    a = await givenApp(FAST, db);
  });
  afterAll(async () => {
    await b?.app.close();
    await a.app.close().catch(() => undefined);
    await db.remove();
  });

  it('has one instance act at a time, and another finishes the plan when the first goes away mid-plan', async () => {
    const admin = givenUser(a, { admin: true });
    b = await givenApp(FAST, db);
    await a
      .http()
      .put(`/feature-flags/${FLAG}`)
      .set(admin.auth)
      .send({ enabled: false, rollout: 0 })
      .expect(200);
    await a
      .http()
      .put(`/feature-flags/${FLAG}/rollout-plan`)
      .set(admin.auth)
      .send({
        steps: [{ rollout: 10 }, { rollout: 20 }, { rollout: 40 }, { rollout: 80 }, { rollout: 100 }],
        minStepSeconds: 1,
      })
      .expect(200);
    const planOn = async (app: TestApp) =>
      (await app.http().get(`/feature-flags/${FLAG}/rollout-plan`).set(admin.auth).expect(200)).body as Plan;
    await until('two steps done', async () => (await planOn(b as TestApp)).step >= 2, 30_000);
    // One instance goes away mid-plan; the other takes the plan over from the stored step.
    await a.app.close();
    await until('the plan completed', async () => (await planOn(b as TestApp)).state === 'completed', 30_000);
    const done = await planOn(b);
    // Each step once: never two instances acting on one state of the plan.
    expect(done.history.map((h) => h.action)).toEqual([
      'started',
      'advanced',
      'advanced',
      'advanced',
      'advanced',
      'completed',
    ]);
    expect(done.history.map((h) => h.n)).toEqual([1, 2, 3, 4, 5, 6]);
    const audit = (await b.http().get(`/feature-flags/${FLAG}/audit`).set(admin.auth)).body.data as {
      action: string;
    }[];
    expect(audit.filter((x) => x.action === 'rollout-plan.advanced')).toHaveLength(4);
    expect(audit.filter((x) => x.action === 'rollout-plan.completed')).toHaveLength(1);
  });
});

describe('Rollout plans when the deciding process is killed', () => {
  let db: TempDatabase;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    db = await givenDatabase();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await db.remove();
  });

  it('a plan whose instance was killed (kill -9, its lease never released) is taken over and finished by another', async () => {
    const env = (name: string) => ({
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, `logs-${name}`),
      ...FAST,
    });
    servers.push(await spawnServer(env('a')));
    const auth = devAuth('root', ['admin']);
    const base = servers[0].baseUrl;
    await request(base)
      .put(`/feature-flags/${FLAG}`)
      .set(auth)
      .send({ enabled: false, rollout: 0 })
      .expect(200);
    await request(base)
      .put(`/feature-flags/${FLAG}/rollout-plan`)
      .set(auth)
      .send({
        steps: [{ rollout: 10 }, { rollout: 30 }, { rollout: 60 }, { rollout: 100 }],
        minStepSeconds: 1,
      })
      .expect(200);
    const planAt = async (url: string) =>
      (await request(url).get(`/feature-flags/${FLAG}/rollout-plan`).set(auth).expect(200)).body as Plan;
    await until('a step done by the first process', async () => (await planAt(base)).step >= 1, 30_000);
    await servers[0].crash();
    servers.push(await spawnServer(env('b')));
    const other = servers[1].baseUrl;
    await until(
      'the plan completed by the second process',
      async () => (await planAt(other)).state === 'completed',
      30_000,
    );
    const done = await planAt(other);
    expect(done.history.map((h) => [h.action, h.rollout])).toEqual([
      ['started', 10],
      ['advanced', 30],
      ['advanced', 60],
      ['advanced', 100],
      ['completed', 100],
    ]);
    expect((await request(other).get(`/feature-flags/${FLAG}`).set(auth)).body).toMatchObject({
      enabled: true,
      rollout: 100,
    });
  });
});
