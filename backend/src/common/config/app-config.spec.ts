import { ConfigValidationError, DEV_JWT_SECRET, loadConfig } from './app-config';

describe(loadConfig.name, () => {
  it('applies the documented defaults', () => {
    const sut = loadConfig({});
    expect(sut).toMatchObject({
      PORT: 3000,
      DATABASE_URL: 'file:./data/app.db',
      MAX_BATCH_ITEMS: 10_000,
      MAX_BODY_BYTES: 10 * 1024 * 1024,
      BATCH_RETRY_BASE_MS: 2000,
      PROGRESS_INTERVAL_MS: 250,
      FEATURE_FLAG_CACHE_MS: 5000,
      TRUST_PROXY_HOPS: 0,
      HEAP_GROWING_PERCENT: 0,
      JWT_SECRET: DEV_JWT_SECRET,
    });
    expect(sut.rateLimits.BATCH_OPERATIONS).toEqual({ limit: 10, windowMs: 3_600_000 });
    expect(sut.rateLimits.BATCH_ITEM_PROCESSING).toEqual({ limit: 100_000, windowMs: 3_600_000 });
  });

  it('runs one worker loop on SQLite and three on PostgreSQL unless BATCH_WORKERS says otherwise', () => {
    expect(loadConfig({}).BATCH_WORKERS).toBe(1);
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/app' }).BATCH_WORKERS).toBe(3);
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/app', BATCH_WORKERS: '0' }).BATCH_WORKERS).toBe(0);
    expect(loadConfig({ BATCH_WORKERS: '2' }).BATCH_WORKERS).toBe(2);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ MAX_BATCH_ITEMS: '0' }, 'MAX_BATCH_ITEMS'],
    [{ BATCH_CHUNK_SIZE: '501' }, 'BATCH_CHUNK_SIZE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ RATE_LIMIT_BATCH_OPERATIONS: 'ten per hour' }, 'RATE_LIMIT_BATCH_OPERATIONS'],
    [{ RATE_LIMIT_SEARCH: '0/60' }, 'RATE_LIMIT_SEARCH'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'],
    [{ NODE_ENV: 'production', JWT_SECRET: DEV_JWT_SECRET }, 'JWT_SECRET'],
    [
      {
        NODE_ENV: 'production',
        JWT_SECRET: 'a-very-private-secret-of-some-length',
        FULLTEXT_ALLOW_HOSTS: '127.0.0.1:8080',
      },
      'FULLTEXT_ALLOW_HOSTS',
    ],
    [{ FULLTEXT_ALLOW_HOSTS: '127.0.0.1' }, 'FULLTEXT_ALLOW_HOSTS'],
    [{ FULLTEXT_ALLOWED_PORTS: '80,99999' }, 'FULLTEXT_ALLOWED_PORTS'],
    [{ FULLTEXT_EXTRACT_MEMORY_MB: '8' }, 'FULLTEXT_EXTRACT_MEMORY_MB'],
    [{ BATCH_MAX_RETRY_AFTER_MS: '10' }, 'BATCH_MAX_RETRY_AFTER_MS'],
    [{ FULLTEXT_RESOLVER_URL: 'https://api.unpaywall.org/v2/' }, 'FULLTEXT_CONTACT_EMAIL'],
    [{ FULLTEXT_CONTACT_EMAIL: 'not an address' }, 'FULLTEXT_CONTACT_EMAIL'],
    [{ BATCH_MAX_OPEN_SECONDS: '0' }, 'BATCH_MAX_OPEN_SECONDS'],
    [{ HEAP_GROWING_PERCENT: '-1' }, 'HEAP_GROWING_PERCENT'],
  ])('rejects %j naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigValidationError);
    expect(() => loadConfig(env)).toThrow(new RegExp(variable));
  });

  it('accepts a private secret in production and parses policy overrides', () => {
    const sut = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: 'a-very-private-secret-of-some-length',
      RATE_LIMIT_EXPORT: '3/60',
    });
    expect(sut.JWT_SECRET).toBe('a-very-private-secret-of-some-length');
    expect(sut.rateLimits.EXPORT).toEqual({ limit: 3, windowMs: 60_000 });
  });
});
