import { createHash } from 'node:crypto';
import type { PrismaService } from '../../src/common/prisma/prisma.service';

/**
 * A digest of every stored row that a request could create or change (batches, items,
 * papers, idempotency records, flags, audit). Rate-limit counters are left out on purpose:
 * a rejected request still counts against its sender.
 */
export async function databaseChecksum(prisma: PrismaService): Promise<string> {
  // Batches still processing change rows by themselves: compare only a quiet database.
  for (let i = 0; i < 3000 && (await prisma.batchOperation.count({ where: { finishedAt: null } })) > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const tables = [
    'BatchOperation',
    'BatchJobItem',
    'Paper',
    'IdempotencyRecord',
    'FeatureFlag',
    'FeatureFlagAudit',
  ];
  const hash = createHash('sha256');
  for (const table of tables) {
    const rows = await prisma.$queryRawUnsafe<unknown[]>(`SELECT * FROM "${table}" ORDER BY 1, 2`);
    hash.update(table + JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  }
  return hash.digest('hex');
}
