// The postgres project's setup file (see backend-sqlite.ts): each test file gets its own schema
// in the local PostgreSQL, and the scale-out paths use the local Redis.
process.env.TEST_BACKEND = 'postgres';
