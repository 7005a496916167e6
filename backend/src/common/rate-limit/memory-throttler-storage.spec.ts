import { MemoryThrottlerStorage } from './memory-throttler-storage';

describe(MemoryThrottlerStorage.name, () => {
  let now: number;
  let sut: MemoryThrottlerStorage;
  const hit = (key = 'u1', limit = 3, ttl = 60_000, block = 60_000) =>
    sut.increment(key, ttl, limit, block, 'default');

  beforeEach(() => {
    now = 1_000_000;
    sut = new MemoryThrottlerStorage(() => now);
  });
  afterEach(() => sut.onApplicationShutdown());

  it('counts hits in a fixed window and blocks once over the limit, for the block duration', async () => {
    expect(await hit()).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    now += 1_000;
    await hit();
    expect(await hit()).toMatchObject({ totalHits: 3, timeToExpire: 59, isBlocked: false });
    expect(await hit()).toEqual({ totalHits: 4, timeToExpire: 59, isBlocked: true, timeToBlockExpire: 60 });
    now += 30_000;
    expect(await hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 30 });
  });

  it('starts a new window when the last one ended, and after a block ends', async () => {
    for (let i = 0; i < 3; i++) await hit();
    now += 60_000;
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false, timeToExpire: 60 });

    for (let i = 0; i < 3; i++) await hit();
    expect(await hit()).toMatchObject({ isBlocked: true });
    now += 60_000;
    expect(await hit()).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
  });

  it('keeps a block that outlasts its window', async () => {
    for (let i = 0; i < 4; i++) await hit('u1', 3, 10_000, 60_000);
    now += 20_000;
    expect(await hit('u1', 3, 10_000, 60_000)).toMatchObject({ isBlocked: true, timeToBlockExpire: 40 });
  });

  it('counts keys and throttlers apart', async () => {
    for (let i = 0; i < 4; i++) await hit('u1');
    expect(await hit('u2')).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await sut.increment('u1', 60_000, 3, 60_000, 'auth')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('drops ended windows when it sweeps, and keeps blocks', async () => {
    await hit('short', 3, 1_000);
    for (let i = 0; i < 4; i++) await hit('blocked', 3, 1_000, 60_000);
    await hit('long');
    now += 2_000;
    sut.sweep();
    expect(sut.size).toBe(2);
    expect(await hit('blocked', 3, 1_000, 60_000)).toMatchObject({ isBlocked: true });
  });
});
