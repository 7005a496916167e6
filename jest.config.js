/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/backend', '<rootDir>/client', '<rootDir>/web'],
  // The client's sources import with .js extensions (its ESM build runs in Node and browsers as is).
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testRegex: '\\.(spec|e2e-spec)\\.ts$',
  transform: {
    // Type checking is `npm run typecheck`; Jest only transpiles.
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }],
  },
  globalSetup: '<rootDir>/backend/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/backend/test/support/global-teardown.ts',
  testTimeout: 120000,
  slowTestThreshold: 30,
};
