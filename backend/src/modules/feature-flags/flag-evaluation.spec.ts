import murmurhash from 'murmurhash';
import { bucketOf, EvaluationReason, evaluateFlag, FlagRule } from './flag-evaluation';

const flag = (over: Partial<FlagRule> = {}): FlagRule => ({
  name: 'BATCH_OPERATIONS',
  enabled: true,
  rollout: 0,
  whitelist: [],
  blacklist: [],
  ...over,
});

const userIds = (n: number) => Array.from({ length: n }, (_, i) => `user-${i}`);

describe(evaluateFlag.name, () => {
  it('treats a missing flag as off with reason ERROR', () => {
    expect(evaluateFlag(undefined, 'u1')).toEqual({
      enabled: false,
      reason: EvaluationReason.Error,
      bucket: null,
      errorCode: 'FLAG_NOT_FOUND',
    });
  });

  it('lets the kill switch beat the whitelist', () => {
    expect(evaluateFlag(flag({ enabled: false, whitelist: ['u1'], rollout: 100 }), 'u1')).toMatchObject({
      enabled: false,
      reason: 'DISABLED',
    });
  });

  it('lets the blacklist beat the whitelist and a full rollout', () => {
    expect(evaluateFlag(flag({ whitelist: ['u1'], blacklist: ['u1'], rollout: 100 }), 'u1')).toMatchObject({
      enabled: false,
      reason: 'TARGETING_MATCH',
    });
  });

  it('turns a whitelisted user on at rollout 0', () => {
    expect(evaluateFlag(flag({ whitelist: ['u1'] }), 'u1')).toMatchObject({
      enabled: true,
      reason: 'TARGETING_MATCH',
    });
  });

  it('answers SPLIT when the bucket is inside the rollout and DEFAULT otherwise', () => {
    expect(evaluateFlag(flag({ rollout: 100 }), 'u1')).toMatchObject({ enabled: true, reason: 'SPLIT' });
    expect(evaluateFlag(flag({ rollout: 0 }), 'u1')).toMatchObject({ enabled: false, reason: 'DEFAULT' });
  });

  it('buckets with murmur3_x86_32("<name>:<userId>", 0) mod 10000', () => {
    // murmur3_x86_32("hello", 0) = 613153351, the reference value of the algorithm.
    expect(bucketOf('BATCH_OPERATIONS', 'u1')).toBe(bucketOf('BATCH_OPERATIONS', 'u1'));
    expect(bucketOf('a', 'b')).toBe(murmurhash.v3('a:b', 0) % 10_000);
    expect(murmurhash.v3('hello', 0)).toBe(613153351);
  });

  it('is deterministic: the same answer from independent evaluations', () => {
    for (const id of userIds(1000))
      expect(evaluateFlag(flag({ rollout: 37.5 }), id)).toEqual(evaluateFlag(flag({ rollout: 37.5 }), id));
  });

  it('enables 25 ± 0.5 % of 100,000 users at rollout 25', () => {
    const on = userIds(100_000).filter((id) => evaluateFlag(flag({ rollout: 25 }), id).enabled).length;
    expect(on / 1000).toBeGreaterThanOrEqual(24.5);
    expect(on / 1000).toBeLessThanOrEqual(25.5);
  });

  it('never turns a user off when the rollout rises 10 → 20 → 50', () => {
    const ids = userIds(20_000);
    const onAt = (rollout: number) =>
      new Set(ids.filter((id) => evaluateFlag(flag({ rollout }), id).enabled));
    const [ten, twenty, fifty] = [onAt(10), onAt(20), onAt(50)];
    for (const id of ten) expect(twenty.has(id)).toBe(true);
    for (const id of twenty) expect(fifty.has(id)).toBe(true);
    expect(fifty.size).toBeGreaterThan(twenty.size);
  });

  it('buckets two flags independently (correlation near 0)', () => {
    const ids = userIds(20_000);
    const a = ids.map((id) => bucketOf('FLAG_A', id));
    const b = ids.map((id) => bucketOf('FLAG_B', id));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const [ma, mb] = [mean(a), mean(b)];
    let cov = 0;
    let va = 0;
    let vb = 0;
    for (let i = 0; i < ids.length; i++) {
      cov += (a[i] - ma) * (b[i] - mb);
      va += (a[i] - ma) ** 2;
      vb += (b[i] - mb) ** 2;
    }
    expect(Math.abs(cov / Math.sqrt(va * vb))).toBeLessThan(0.03);
  });

  it('honours two-decimal rollouts exactly (12.34 % = buckets 0…1233)', () => {
    const ids = userIds(50_000);
    for (const id of ids.slice(0, 2000)) {
      expect(evaluateFlag(flag({ rollout: 12.34 }), id).enabled).toBe(
        bucketOf('BATCH_OPERATIONS', id) < 1234,
      );
    }
  });
});
