import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { resolveSqliteUrl } from './backend/src/common/prisma/database-url';

// The CLI uses the bundled WASM schema engine through the driver adapter, so
// `prisma generate` and `prisma migrate deploy` work without downloading
// a native engine (see ../shared/toolchain.md).
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('backend', 'prisma', 'schema.prisma'),
  migrations: { path: path.join('backend', 'prisma', 'migrations') },
  adapter: async () => new PrismaBetterSQLite3({ url: resolveSqliteUrl(process.env.DATABASE_URL) }),
});
