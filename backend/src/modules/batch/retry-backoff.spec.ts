import { retryBackoffMs } from './retry-backoff';

describe(retryBackoffMs.name, () => {
  it('doubles from the base: 2 s, 4 s, 8 s without jitter', () => {
    const noJitter = () => 0.5;
    expect([1, 2, 3, 4].map((a) => retryBackoffMs(a, 2000, noJitter))).toEqual([2000, 4000, 8000, 16000]);
  });

  it('keeps jitter within ±20 %', () => {
    expect(retryBackoffMs(1, 1000, () => 0)).toBe(800);
    expect(retryBackoffMs(1, 1000, () => 0.999999)).toBe(1200);
  });
});
