import { z } from 'zod';

export const DEV_JWT_SECRET = 'dev-only-insecure-jwt-secret-change-me';

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `<count>/<seconds>`, e.g. `10/3600`: every rate setting (limiter policies, downloads, per host). */
const countPerWindow = z
  .string()
  .regex(/^\d+\/\d+$/, 'must look like <count>/<seconds>, e.g. 10/3600')
  .transform((value) => {
    const [count, seconds] = value.split('/').map(Number);
    return { count, windowMs: seconds * 1000 };
  })
  .refine((r) => r.count >= 1 && r.windowMs >= 1000, 'count and seconds must be at least 1');

const ratePolicy = countPerWindow.transform(({ count, windowMs }) => ({ limit: count, windowMs }));

/** FULLTEXT_HOST_POLICIES: a JSON object of `host[:port]` → `{ concurrency?, rate? ("n/s"), maxAttempts?, backoffMs? }`. */
export const hostPoliciesSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(
      z.string().min(1).max(260),
      z.strictObject({
        concurrency: z.number().int().min(1).max(256).optional(),
        rate: countPerWindow.optional(),
        maxAttempts: z.number().int().min(1).max(10).optional(),
        backoffMs: z.number().int().min(0).max(86_400_000).optional(),
      }),
    ),
  );

export type HostPolicies = z.infer<typeof hostPoliciesSchema>;

export type RatePolicyValue = { limit: number; windowMs: number };

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: intFrom(0, 65535).default(3000),
    DATABASE_URL: z
      .string()
      .regex(/^(file:|postgres(ql)?:\/\/)/, 'must start with file: (SQLite) or postgresql://')
      .default('file:./data/app.db'),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis://')
      .optional(),
    REDIS_KEY_PREFIX: z.string().max(64).default('nbo:'),
    JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    LOG_DIR: z.string().min(1).default('logs'),
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
    LOG_CONSOLE: z.enum(['true', 'false']).default('true'),
    MAX_BATCH_ITEMS: intFrom(1, 10_000_000).default(10_000),
    MAX_BODY_BYTES: intFrom(1024, 1024 * 1024 * 1024).default(10 * 1024 * 1024),
    BATCH_CHUNK_SIZE: intFrom(1, 500).default(100),
    BATCH_CHUNK_DELAY_MS: intFrom(0, 60_000).default(0),
    BATCH_LEASE_MS: intFrom(1000, 3_600_000).default(30_000),
    BATCH_RETRY_BASE_MS: intFrom(0, 3_600_000).default(2000),
    BATCH_RETENTION_DAYS: intFrom(1, 3650).default(30),
    /** Worker loops per process; unset: 1 on SQLite (one writer), 3 on PostgreSQL (see README). */
    BATCH_WORKERS: intFrom(0, 32).optional(),
    BATCH_POLL_MS: intFrom(10, 60_000).default(200),
    /** The standalone server's V8 heap growth after a full collection, in %; 0: V8's own factor (main.ts). */
    HEAP_GROWING_PERCENT: intFrom(0, 1000).default(0),
    /**
     * SQLite only: the engine's statements on a connection of its own (`own`, the default:
     * what a host gets from createEngineDatabase) or on Prisma's own connection (`shared`).
     * PostgreSQL always gives the engine its own pool.
     */
    BATCH_ENGINE_CONNECTION: z.enum(['shared', 'own']).default('own'),
    PROGRESS_INTERVAL_MS: intFrom(0, 60_000).default(250),
    FEATURE_FLAG_CACHE_MS: intFrom(0, 3_600_000).default(5000),
    /** How often rollout plans are evaluated (advance, roll back). */
    ROLLOUT_EVALUATION_MS: intFrom(100, 3_600_000).default(60_000),
    TRUST_PROXY_HOPS: intFrom(0, 32).default(0),
    SHUTDOWN_TIMEOUT_MS: intFrom(0, 600_000).default(10_000),
    FULLTEXT_BASE_URL: z.string().url().default('https://doi.org/'),
    /** An Unpaywall-style open-access lookup tried first: GET <url>/<doi>?email=<FULLTEXT_CONTACT_EMAIL>. */
    FULLTEXT_RESOLVER_URL: z.string().url().optional(),
    /** The contact the resolver asks for (Unpaywall requires one); needed with FULLTEXT_RESOLVER_URL. */
    FULLTEXT_CONTACT_EMAIL: z.string().email().optional(),
    FULLTEXT_CONCURRENCY: intFrom(1, 256).default(4),
    FULLTEXT_RATE: countPerWindow.prefault('60/60'),
    /** Downloads at once from one host (every process together), unless FULLTEXT_HOST_POLICIES says otherwise. */
    FULLTEXT_PER_HOST_CONCURRENCY: intFrom(1, 256).default(2),
    /** Download starts per window from one host (`<count>/<seconds>`), unless FULLTEXT_HOST_POLICIES says otherwise. */
    FULLTEXT_PER_HOST_RATE: countPerWindow.prefault('10/60'),
    /** JSON: `{ "<host[:port]>": { concurrency?, rate? ("n/s"), maxAttempts?, backoffMs? } }`. */
    FULLTEXT_HOST_POLICIES: hostPoliciesSchema.optional(),
    FULLTEXT_TIMEOUT_MS: intFrom(100, 600_000).default(30_000),
    FULLTEXT_MAX_BYTES: intFrom(1024, 1024 * 1024 * 1024).default(20 * 1024 * 1024),
    /** `host:port` pairs exempt from the public-address check (loopback fakes); refused in production. */
    FULLTEXT_ALLOW_HOSTS: z
      .string()
      .regex(/^\s*([^,\s]+:\d+\s*(,\s*|$))*$/, 'must be a comma-separated list of host:port')
      .optional(),
    /** Ports outbound full-text requests may use. */
    FULLTEXT_ALLOWED_PORTS: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'must be a comma-separated list of ports, e.g. 80,443')
      .default('80,443')
      .transform((value) => value.split(',').map(Number))
      .refine((ports) => ports.every((p) => p >= 1 && p <= 65535), 'ports are 1…65535'),
    /** Child processes that extract PDF text (off the event loop, outside the service's memory). */
    FULLTEXT_EXTRACT_WORKERS: intFrom(1, 64).default(2),
    /** Heap cap of one extraction process; a PDF that needs more fails as parse_error. */
    FULLTEXT_EXTRACT_MEMORY_MB: intFrom(32, 8192).default(256),
    /** Time cap of one extraction; a PDF that takes longer fails as parse_error. */
    FULLTEXT_EXTRACT_TIMEOUT_MS: intFrom(100, 600_000).default(30_000),
    /** Upper bound of an outside server's Retry-After, for holds and for an item's next attempt. */
    BATCH_MAX_RETRY_AFTER_MS: intFrom(1000, 30 * 24 * 3_600_000).default(3_600_000),
    /** Upper bound of a batch's keepOpenSeconds (seconds it takes appended items after it is created). */
    BATCH_MAX_OPEN_SECONDS: intFrom(1, 30 * 86_400).default(86_400),
    /** How often the PDF queue drop-in brings its job mirror (and pdf.job.* events) up to date. */
    PDF_QUEUE_POLL_MS: intFrom(50, 60_000).default(500),
    /** Bearer token for GET /metrics in production (unset: /metrics answers 404 there). */
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && (!env.JWT_SECRET || env.JWT_SECRET === DEV_JWT_SECRET)) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message:
          'must be set to a private value when NODE_ENV=production (the development default is refused)',
      });
    }
    if (env.NODE_ENV === 'production' && env.FULLTEXT_ALLOW_HOSTS?.trim()) {
      ctx.addIssue({
        code: 'custom',
        path: ['FULLTEXT_ALLOW_HOSTS'],
        message: 'is for development and tests only: production never fetches from exempt hosts',
      });
    }
    if (env.FULLTEXT_RESOLVER_URL && !env.FULLTEXT_CONTACT_EMAIL) {
      ctx.addIssue({
        code: 'custom',
        path: ['FULLTEXT_CONTACT_EMAIL'],
        message: 'must be set with FULLTEXT_RESOLVER_URL (open-access resolvers ask who is calling)',
      });
    }
  });

/** Named policies of the database-backed limiter with their defaults (count per window). */
export const RATE_LIMIT_DEFAULTS = {
  BATCH_OPERATIONS: '10/3600',
  BATCH_ITEM_PROCESSING: '100000/3600',
  GENERAL: '1000/3600',
  AUTH: '5/900',
  FILE_UPLOAD: '10/3600',
  EXPORT: '20/3600',
  SEARCH: '300/60',
  SOCKET_EVENTS: '120/60',
  THROTTLE_DEFAULT: '100/60',
  THROTTLE_AUTH: '5/900',
  THROTTLE_UPLOAD: '10/3600',
} as const;

export type RatePolicyName = keyof typeof RATE_LIMIT_DEFAULTS;

export type AppConfig = Omit<z.infer<typeof schema>, 'JWT_SECRET' | 'BATCH_WORKERS'> & {
  JWT_SECRET: string;
  BATCH_WORKERS: number;
  rateLimits: Record<RatePolicyName, RatePolicyValue>;
};

export class ConfigValidationError extends Error {}

/**
 * Parses and validates the environment once. Throws a ConfigValidationError that names
 * every offending variable; nothing starts with a bad configuration.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  const rateLimits = {} as Record<RatePolicyName, RatePolicyValue>;
  for (const [name, fallback] of Object.entries(RATE_LIMIT_DEFAULTS) as [RatePolicyName, string][]) {
    const key = `RATE_LIMIT_${name}`;
    const result = ratePolicy.safeParse(env[key] ?? fallback);
    if (result.success) rateLimits[name] = result.data;
    else problems.push(`${key}: ${result.error.issues[0].message}`);
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigValidationError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return {
    ...parsed.data,
    JWT_SECRET: parsed.data.JWT_SECRET ?? DEV_JWT_SECRET,
    // On PostgreSQL a loop spends most of a chunk waiting on round trips and commits; three
    // loops overlap them (20k items: ~19k → ~34k items/s in `npm run bench`). SQLite has one
    // writer, and a second loop there measured no faster.
    BATCH_WORKERS: parsed.data.BATCH_WORKERS ?? (parsed.data.DATABASE_URL.startsWith('file:') ? 1 : 3),
    rateLimits,
  };
}
