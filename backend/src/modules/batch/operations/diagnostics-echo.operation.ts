import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  BatchOperation,
  BatchOperationHandler,
  ChunkItem,
  ItemOutcome,
  OperationContext,
} from './batch-operation';

const schema = z.looseObject({
  failTimes: z
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(0, 'must be at least 0')
    .optional(),
  failPermanently: z.boolean({ error: 'must be a boolean' }).optional(),
  delayMs: z
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(0)
    .max(10_000, 'must be at most 10000')
    .optional(),
  /** Reports these stages in order as item progress, `delayMs` spread over them. */
  stages: z.array(z.string().min(1).max(40)).max(10, 'must have at most 10 stages').optional(),
});

type EchoItem = z.infer<typeof schema>;

/**
 * Echoes each item back. For tests, benchmarks and smoke checks: `failTimes` fails
 * transiently that many attempts, `failPermanently` fails for good, `delayMs` waits,
 * `stages` reports item progress.
 * Runs outside the chunk transaction, like an operation with outside effects.
 * With ECHO_INVOCATION_LOG set, appends `<itemId> <pid> <items in the call>` per invocation (tests count them).
 */
@BatchOperation('diagnostics.echo')
export class DiagnosticsEchoOperation implements BatchOperationHandler<EchoItem> {
  readonly itemSchema = schema;
  readonly transactional = false;

  async process(items: ChunkItem<EchoItem>[], ctx: OperationContext): Promise<ItemOutcome[]> {
    const log = process.env.ECHO_INVOCATION_LOG;
    if (log) fs.appendFileSync(log, items.map((i) => `${i.id} ${process.pid} ${items.length}\n`).join(''));
    const outcomes: ItemOutcome[] = [];
    for (const item of items) {
      const { delayMs, failTimes, failPermanently, stages } = item.payload;
      if (stages?.length) {
        for (const [i, stage] of stages.entries()) {
          ctx.progress(item, {
            stage,
            percentage: ((i + 1) / stages.length) * 100,
            message: `${stage} (${i + 1} of ${stages.length})`,
          });
          if (delayMs)
            await sleep(delayMs / stages.length, undefined, { signal: ctx.signal }).catch(() => undefined);
        }
      } else if (delayMs) await sleep(delayMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      if (ctx.signal.aborted) {
        outcomes.push({ ok: false, error: 'aborted', permanent: false });
        continue;
      }
      if (failPermanently) outcomes.push({ ok: false, error: 'failPermanently was set', permanent: true });
      else if (failTimes !== undefined && item.attempt <= failTimes)
        outcomes.push({
          ok: false,
          error: `transient failure ${item.attempt} of ${failTimes}`,
          permanent: false,
        });
      else outcomes.push({ ok: true, result: item.payload });
    }
    return outcomes;
  }
}
