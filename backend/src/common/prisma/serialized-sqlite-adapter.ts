import type {
  IsolationLevel,
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  SqlQuery,
  Transaction,
} from '@prisma/driver-adapter-utils';
import type BetterSqlite3 from 'better-sqlite3';
import { Lock } from '../../modules/shared/database/lock';

/** The adapter reports SQLITE_BUSY as a DriverAdapterError of kind "SocketTimeout". */
const isAdapterBusy = (error: unknown): boolean =>
  (error as { cause?: { kind?: unknown } } | null)?.cause?.kind === 'SocketTimeout';

/**
 * Wraps the better-sqlite3 adapter, which shares one connection between transactions
 * and plain queries: without this, a query issued by another request while an
 * interactive transaction awaits would run inside that transaction (reading its
 * uncommitted rows, or being rolled back with it). Here every statement outside a
 * transaction waits for the open transaction to finish, and transactions start with
 * BEGIN IMMEDIATE so a read-then-write transaction can never fail with SQLITE_BUSY
 * when several processes share the file (busy_timeout applies to the lock instead).
 */
export class SerializedSqliteAdapterFactory implements SqlDriverAdapterFactory {
  readonly provider = 'sqlite' as const;
  readonly adapterName: string;
  /** The open connection and its lock, for the engine's fast path (see SqliteFastPath). */
  connection: { lock: Lock; db: BetterSqlite3.Database } | null = null;

  constructor(private readonly inner: SqlDriverAdapterFactory) {
    this.adapterName = inner.adapterName;
  }

  async connect(): Promise<SqlDriverAdapter> {
    const adapter = await this.inner.connect();
    const lock = new Lock();
    // The better-sqlite3 adapter keeps its connection in `client`.
    this.connection = { lock, db: (adapter as unknown as { client: BetterSqlite3.Database }).client };
    const begin: SqlQuery = { sql: 'BEGIN IMMEDIATE', args: [], argTypes: [] };
    return {
      provider: adapter.provider,
      adapterName: adapter.adapterName,
      queryRaw: (query) => lock.runRetryingBusy(() => adapter.queryRaw(query), isAdapterBusy),
      executeRaw: (query) => lock.runRetryingBusy(() => adapter.executeRaw(query), isAdapterBusy),
      executeScript: (script) => lock.run(() => adapter.executeScript(script)),
      getConnectionInfo: adapter.getConnectionInfo?.bind(adapter),
      dispose: () => lock.run(() => adapter.dispose()),
      startTransaction: async (_isolation?: IsolationLevel): Promise<Transaction> => {
        const release = await lock.acquireForWrite(async () => {
          await adapter.executeRaw(begin);
        }, isAdapterBusy);
        return {
          provider: adapter.provider,
          adapterName: adapter.adapterName,
          options: { usePhantomQuery: false },
          queryRaw: (query) => adapter.queryRaw(query),
          executeRaw: (query) => adapter.executeRaw(query),
          commit: async () => release(),
          rollback: async () => release(),
        };
      },
    };
  }
}
