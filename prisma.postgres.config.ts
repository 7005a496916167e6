import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

// The PostgreSQL variant: generated schema, its own migrations, the pg driver adapter
// (JS schema engine, nothing downloaded).
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('backend', 'prisma', 'postgres', 'schema.prisma'),
  migrations: { path: path.join('backend', 'prisma', 'postgres', 'migrations') },
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL ?? '' }),
});
