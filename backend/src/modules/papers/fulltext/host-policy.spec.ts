import { FetchFailure } from './fetch-failure';
import { HostPolicyBook, hostPoliciesSchema } from './host-policy';

describe('HostPolicyBook', () => {
  const book = new HostPolicyBook(
    { concurrency: 2, rate: { count: 10, windowMs: 60_000 } },
    hostPoliciesSchema.parse(
      JSON.stringify({
        'slow.example.org': { concurrency: 1, rate: '2/1', maxAttempts: 2 },
        'api.example.org:8443': { backoffMs: 500 },
      }),
    ),
  );

  it('takes a host’s own entry over the defaults, by host:port first, then by name', () => {
    expect(book.of('slow.example.org')).toEqual({
      limits: { concurrency: 1, rate: { count: 2, windowMs: 1000 } },
      maxAttempts: 2,
      backoffMs: undefined,
    });
    expect(book.of('slow.example.org:443').limits.concurrency).toBe(1);
    expect(book.of('api.example.org:8443')).toMatchObject({ limits: { concurrency: 2 }, backoffMs: 500 });
    expect(book.of('other.example.org')).toEqual({
      limits: { concurrency: 2, rate: { count: 10, windowMs: 60_000 } },
      maxAttempts: undefined,
      backoffMs: undefined,
    });
  });

  it.each(['not json', '[]', '{"h": {"concurrency": 0}}', '{"h": {"rate": "fast"}}', '{"h": {"extra": 1}}'])(
    'refuses FULLTEXT_HOST_POLICIES %s',
    (text) => expect(hostPoliciesSchema.safeParse(text).success).toBe(false),
  );
});

describe('FetchFailure.underPolicy', () => {
  const busy = () => {
    const f = new FetchFailure('No answer (503)', 'server_error', 'failed', {
      retryable: true,
      retryAfterMs: 100,
    });
    f.host = 'slow.example.org';
    return f;
  };

  it('gives up for good after the host’s max attempts, saying so', () => {
    const given = busy().underPolicy({ maxAttempts: 2 }, 2);
    expect(given).toMatchObject({ retryable: false, category: 'server_error' });
    expect(given.message).toContain('gave up after 2 attempt(s), the limit for slow.example.org');
    expect(busy().underPolicy({ maxAttempts: 2 }, 1).retryable).toBe(true);
  });

  it('waits the host’s backoff, doubling per attempt with ±20 % jitter, never less than Retry-After', () => {
    expect(busy().underPolicy({ backoffMs: 500 }, 3, 0.5).retryAfterMs).toBe(2000);
    expect(busy().underPolicy({ backoffMs: 500 }, 1, 0).retryAfterMs).toBe(400);
    expect(busy().underPolicy({ backoffMs: 10 }, 1, 0).retryAfterMs).toBe(100);
  });

  it('leaves permanent and deferred failures alone', () => {
    const paywall = new FetchFailure('No full text (403)', 'paywall', 'failed');
    expect(paywall.underPolicy({ maxAttempts: 1, backoffMs: 5 }, 9)).toBe(paywall);
    const held = FetchFailure.busy('slow.example.org', 600.4);
    expect(held.retryAfterMs).toBe(601);
    expect(held.underPolicy({ maxAttempts: 1 }, 9)).toBe(held);
  });
});
