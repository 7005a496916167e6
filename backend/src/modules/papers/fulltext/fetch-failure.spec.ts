import { failureForStatus, retryAfterMs } from './fetch-failure';

describe(retryAfterMs.name, () => {
  const now = Date.parse('2026-12-03T10:00:00Z');

  it('reads seconds and HTTP dates, and treats garbage, negative and past values as none', () => {
    expect(retryAfterMs('30', now)).toBe(30_000);
    expect(retryAfterMs('Thu, 03 Dec 2026 10:01:00 GMT', now)).toBe(60_000);
    for (const none of [undefined, '', 'soon', '-5', 'Thu, 03 Dec 2026 09:00:00 GMT'])
      expect(retryAfterMs(none, now)).toBe(0);
  });

  it('passes huge values on uncapped (the engine caps holds and next attempts)', () => {
    expect(retryAfterMs('999999999', now)).toBe(999_999_999_000);
    expect(retryAfterMs('Fri, 31 Dec 9999 23:59:59 GMT', now)).toBeGreaterThan(7_000 * 365 * 86_400_000);
  });
});

describe(failureForStatus.name, () => {
  it.each([
    [404, 'not_found', false],
    [410, 'not_found', false],
    [401, 'paywall', false],
    [403, 'paywall', false],
    [429, 'rate_limited', true],
    [503, 'server_error', true],
    [418, 'not_found', false],
  ])('classifies %i as %s (retryable: %s)', (status, category, retryable) => {
    const failure = failureForStatus(status, undefined, 0);
    expect({ category: failure.category, retryable: failure.retryable }).toEqual({ category, retryable });
  });
});
