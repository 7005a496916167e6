import type BetterSqlite3 from 'better-sqlite3';
import type { Pool, PoolClient } from 'pg';
import type { EngineDatabase } from '../ports';
import { isPostgresUrl, postgresPoolConfig, sqliteFileOf } from './database-url';
import { Lock } from './lock';
import { numberPlaceholders, postgresDialect, sqliteDialect } from './sql-dialect';
import type { SqlExecutor } from './sql-executor';
import { SqliteFastPath } from './sqlite-fast-path';
import { holdWalCheckpointer, WAL_AUTOCHECKPOINT_PAGES } from './wal-checkpointer';

/**
 * One busy writer and many readers; every write transaction is BEGIN IMMEDIATE. The busy
 * timeout is short on purpose: better-sqlite3 waits for it synchronously, so longer waits
 * for another connection's write lock happen in `Lock` (asynchronously, up to 5 s).
 * Whoever applies these also holds the file's background checkpointer (holdWalCheckpointer).
 */
export const SQLITE_PRAGMAS = [
  'journal_mode = WAL',
  'busy_timeout = 10',
  'synchronous = NORMAL',
  'foreign_keys = ON',
  // Checkpoints run in a background thread (holdWalCheckpointer); this is the safety net.
  `wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`,
];

export interface OwnedEngineDatabase extends EngineDatabase {
  close(): Promise<void>;
}

/**
 * The engine's own connection for a host whose Prisma client has no driver adapter to
 * share: better-sqlite3 on a `file:` URL (WAL, busy timeout, BEGIN IMMEDIATE, so it is
 * as safe beside the host's own connection as another process would be), a `pg` pool on
 * a postgresql:// URL. Relative SQLite paths resolve against `baseDir` (default: cwd).
 */
export function createEngineDatabase(
  url: string,
  options: { baseDir?: string; poolSize?: number } = {},
): OwnedEngineDatabase {
  return isPostgresUrl(url)
    ? postgresEngineDatabase(url, options.poolSize ?? 10)
    : sqliteEngineDatabase(sqliteFileOf(url, options.baseDir ?? process.cwd()));
}

/*
 * The drivers are loaded only for the back end in use: a host on PostgreSQL needs no
 * better-sqlite3 build, a host on SQLite needs no `pg` installed.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
const loadSqlite = () => require('better-sqlite3') as typeof BetterSqlite3;
const loadPg = () => require('pg') as typeof import('pg');
/* eslint-enable @typescript-eslint/no-require-imports */

function sqliteEngineDatabase(file: string): OwnedEngineDatabase {
  const Database = loadSqlite();
  const db = new Database(file);
  for (const pragma of SQLITE_PRAGMAS) db.pragma(pragma);
  // Safe integers, as Prisma's adapter returns them: repositories convert with Number().
  db.defaultSafeIntegers(true);
  const lock = new Lock();
  const fast = new SqliteFastPath(lock, db);
  const releaseCheckpointer = holdWalCheckpointer(file);
  return {
    dialect: sqliteDialect,
    transaction: (fn) => fast.transaction(fn),
    query: (sql, ...args) => fast.query(sql, ...args),
    execute: (sql, ...args) => fast.execute(sql, ...args),
    close: async () => {
      await lock.run(async () => {
        db.close();
      });
      await releaseCheckpointer();
    },
  };
}

/** TIMESTAMP (without time zone) as text: node-pg would read it in the process's local zone. */
const TIMESTAMP_OID = 1114;

function postgresEngineDatabase(url: string, max: number): OwnedEngineDatabase {
  const { Pool, types } = loadPg();
  const config = postgresPoolConfig(url);
  const pool = new Pool({
    connectionString: config.connectionString,
    options: config.options,
    max,
    connectionTimeoutMillis: 3000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === TIMESTAMP_OID
          ? (value: string) => value
          : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
    },
  });
  // A client's connection error (the server restarted or went away) must not end the
  // process: idle clients report to the pool, checked-out ones to themselves; the failed
  // query rejects either way, and the client is discarded on release.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const executor = (client: Pool | PoolClient): SqlExecutor => ({
    $queryRawUnsafe: async <T>(sql: string, ...args: unknown[]) =>
      (await client.query(numberPlaceholders(sql), args)).rows as T,
    $executeRawUnsafe: async (sql: string, ...args: unknown[]) =>
      (await client.query(numberPlaceholders(sql), args)).rowCount ?? 0,
  });
  const direct = executor(pool);
  return {
    dialect: postgresDialect,
    async transaction(fn) {
      const client = await pool.connect();
      let failed = false;
      try {
        await client.query('BEGIN');
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        failed = true;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        // After a failure the connection may be broken: discard it rather than pool it.
        client.release(failed);
      }
    },
    query: (sql, ...args) => direct.$queryRawUnsafe(sql, ...args),
    execute: (sql, ...args) => direct.$executeRawUnsafe(sql, ...args),
    close: () => pool.end(),
  };
}
