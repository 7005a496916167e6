import { z } from 'zod';
import { PapersRepository } from './papers.repository';
import { BatchOperation, BatchOperationHandler, ChunkItem, ItemOutcome, OperationContext } from '../batch';

const DOI_PATTERN = /^10\.\d{4,9}\/\S+$/;

const schema = z.object({
  title: z
    .string({ error: 'must be a string' })
    .max(500, 'must be at most 500 characters')
    .refine((t) => t.trim().length > 0, 'must not be blank'),
  doi: z
    .string({ error: 'must be a string' })
    .regex(DOI_PATTERN, `must match ${DOI_PATTERN.source}`)
    .optional(),
  authors: z
    .array(z.string({ error: 'must be strings' }).max(500, 'must be at most 500 characters each'), {
      error: 'must be an array of strings',
    })
    .max(100, 'must have at most 100 entries')
    .optional(),
  year: z
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1000, 'must be between 1000 and 2100')
    .max(2100, 'must be between 1000 and 2100')
    .optional(),
  abstract: z
    .string({ error: 'must be a string' })
    .max(20_000, 'must be at most 20000 characters')
    .optional(),
});

type PaperItem = z.infer<typeof schema>;

/**
 * Creates the batch owner's papers, or updates the owner's paper with the same DOI.
 * Runs inside the chunk's transaction: papers, item outcomes and counters commit
 * together, so a crash mid-chunk redoes the chunk and every effect happens once.
 */
@BatchOperation('papers.import')
export class PapersImportOperation implements BatchOperationHandler<PaperItem> {
  readonly itemSchema = schema;
  readonly transactional = true;
  /**
   * One set-based upsert per call: a lease of 500 as one call measured 17.6–18.1k items/s on
   * PostgreSQL against 13.3–14.1k in calls of 100 (10k papers, POST without options).
   */
  readonly maxCallItems = 500;

  constructor(private readonly papers: PapersRepository) {}

  async process(items: ChunkItem<PaperItem>[], ctx: OperationContext): Promise<ItemOutcome[]> {
    if (!ctx.tx) throw new Error('papers.import must run inside the chunk transaction');
    const upserted = await this.papers.upsertForUser(
      ctx.tx,
      ctx.userId,
      items.map((i) => i.payload),
    );
    return upserted.map((result) => ({ ok: true, result }));
  }
}
