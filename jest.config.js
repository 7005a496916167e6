// Two projects over one global setup (one compiled server, one operator-page build, one
// browser): the whole suite on SQLite, and the conformance suites again on PostgreSQL +
// Redis. `npm test` runs both side by side on two workers; each test file has its own
// database (a SQLite file, or a schema), Redis key prefix and free ports, so files never
// share state. `--selectProjects sqlite|postgres` runs one.

/** The files that run again on PostgreSQL: everything that touches the database or Redis through the modules. */
const POSTGRES_SUITES = [
  'backend/test/e2e/batches',
  'backend/test/e2e/batch-control',
  'backend/test/e2e/append-items',
  'backend/test/e2e/batch-input',
  'backend/test/e2e/batch-socket',
  'backend/test/e2e/feature-flags',
  'backend/test/e2e/foundation',
  'backend/test/e2e/scale-out-redis',
  'backend/test/e2e/contract-hardening',
  'backend/test/e2e/rolling-start',
  'backend/test/e2e/fulltext',
  'backend/test/e2e/fulltext-hostile',
  'backend/test/e2e/fulltext-sources',
  'backend/test/e2e/fulltext-per-host',
  'backend/test/e2e/pdf-queue',
  'backend/test/e2e/rollout-plans',
  'backend/test/e2e/batch-insights',
  'backend/test/e2e/items-export',
  'backend/test/e2e/poison-and-races',
  'backend/test/e2e/events-without-redis',
  'backend/test/engine/',
  'backend/src/modules/batch/chunk-runner',
  'backend/src/modules/shared/',
];
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** @type {import('jest').Config} */
const project = {
  testEnvironment: 'node',
  roots: ['<rootDir>/backend', '<rootDir>/client', '<rootDir>/web'],
  // The client's sources import with .js extensions (its ESM build runs in Node and browsers as is).
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    // Type checking is `npm run typecheck`; Jest only transpiles.
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }],
  },
  testTimeout: 120000,
  slowTestThreshold: 30,
};

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/backend/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/backend/test/support/global-teardown.ts',
  testTimeout: 120000,
  projects: [
    {
      ...project,
      displayName: 'sqlite',
      testRegex: '\\.(spec|e2e-spec)\\.ts$',
      setupFiles: ['<rootDir>/backend/test/support/backend-sqlite.ts'],
    },
    {
      ...project,
      displayName: 'postgres',
      // Paths starting with a listed prefix (as jest's own path patterns on the command line).
      testRegex: `/(${POSTGRES_SUITES.map(escape).join('|')}).*\\.(spec|e2e-spec)\\.ts$`,
      setupFiles: ['<rootDir>/backend/test/support/backend-postgres.ts'],
    },
  ],
};
