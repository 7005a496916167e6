/**
 * What repositories need to run SQL: the raw-query subset of a Prisma client or
 * transaction, also implemented by SqliteFastPath. Integers may come back as BigInt and
 * JSON columns as text or parsed values, depending on the implementation.
 */
export interface SqlExecutor {
  $queryRawUnsafe<T = unknown>(sql: string, ...args: unknown[]): Promise<T>;
  $executeRawUnsafe(sql: string, ...args: unknown[]): Promise<number>;
}

/** True when the database answers a trivial query (health checks). */
export async function pingDatabase(db: SqlExecutor): Promise<boolean> {
  try {
    await db.$queryRawUnsafe('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
