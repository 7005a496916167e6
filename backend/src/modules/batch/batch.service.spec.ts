import { ManualClock } from '../shared/clock';
import { AppException } from '../shared/errors/app-exception';
import { ModuleLogger } from '../shared/module-logger';
import { NO_METRICS, type ModuleUser, type RateCharge, type RateDecision } from '../shared/ports';
import { BatchEnvelopeValidator } from './batch-envelope.validator';
import { BatchStatus } from './batch-status';
import { BatchEvent, BatchEventBus } from './batch.events';
import { DEFAULT_BATCH_SETTINGS } from './batch.options';
import type { BatchRepository } from './batch.repository';
import { BatchService } from './batch.service';
import type { BatchRecord } from './batch.types';
import type { IdempotencyService } from './idempotency.service';
import type { OperationRegistry } from './operations/operation.registry';

const alice: ModuleUser = { userId: 'alice', roles: [] };
const admin: ModuleUser = { userId: 'root', roles: ['admin'] };

function givenRecord(overrides: Partial<BatchRecord> = {}): BatchRecord {
  return {
    key: 1,
    id: 'b1',
    userId: 'alice',
    operation: 'diagnostics.echo',
    status: BatchStatus.Processing,
    itemCount: 2,
    processedCount: 0,
    succeededCount: 0,
    failedCount: 0,
    cancelledCount: 0,
    options: { chunkSize: 100, maxAttempts: 3, allowFailures: true },
    metadata: null,
    correlationId: 'c1',
    eventSeq: 1,
    createdAt: new Date(0),
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

/** An in-memory stand-in for the repository: just enough state for the service's rules. */
function givenRepository(stored: BatchRecord[] = []) {
  const batches = new Map(stored.map((b) => [b.id, b]));
  const calls: string[] = [];
  const repository = {
    calls,
    transaction: async <T>(fn: (tx: unknown) => Promise<T>) => {
      calls.push('transaction');
      return fn({});
    },
    insertBatch: async (b: { id: string; userId: string; operation: string; itemCount: number }) => {
      calls.push('insertBatch');
      batches.set(b.id, givenRecord({ ...b, status: BatchStatus.Pending }));
    },
    insertSlices: { size: 500, parallel: 1 },
    insertItems: async () => void calls.push('insertItems'),
    seal: async () => void calls.push('seal'),
    deleteBatch: async (id: string) => void batches.delete(id),
    findById: async (id: string) => batches.get(id) ?? null,
  };
  return repository;
}

function givenService(options: {
  repository?: ReturnType<typeof givenRepository>;
  decision?: RateDecision | Error;
}) {
  const repository = options.repository ?? givenRepository();
  const charges: RateCharge[][] = [];
  const limiter = {
    consume: async (_key: string, c: RateCharge[]) => {
      charges.push(c);
      if (options.decision instanceof Error) throw options.decision;
      return options.decision ?? { allowed: true, states: [], violated: [] };
    },
  };
  const idempotency = {
    begin: jest.fn(async () => ({ kind: 'fresh' as const })),
    complete: jest.fn(async () => undefined),
    abandon: jest.fn(async () => undefined),
  };
  const registry = {
    get: (name: string) => (name === 'diagnostics.echo' ? { transactional: false } : undefined),
    names: () => ['diagnostics.echo'],
    check: () => ({ ok: true, value: {} }),
  } as unknown as OperationRegistry;
  const logged: string[] = [];
  const logger = new ModuleLogger({
    log: (m) => logged.push(m),
    warn: (m) => logged.push(m),
    error: (m) => logged.push(m),
  });
  const bus = new BatchEventBus();
  const queued: string[] = [];
  bus.on(BatchEvent.Queued, ({ batchId }) => queued.push(batchId));
  const sut = new BatchService(
    repository as unknown as BatchRepository,
    new BatchEnvelopeValidator(registry, DEFAULT_BATCH_SETTINGS),
    idempotency as unknown as IdempotencyService,
    bus,
    limiter,
    { correlationId: () => 'corr-1', run: (_s, fn) => fn() },
    new ManualClock(),
    NO_METRICS,
    logger,
  );
  return { sut, repository, charges, idempotency, logged, queued };
}

const refused: RateDecision = {
  allowed: false,
  states: [{ policy: 'BATCH_OPERATIONS', limit: 10, remaining: 0, resetSeconds: 60, windowSeconds: 3600 }],
  violated: [{ policy: 'BATCH_OPERATIONS', limit: 10, remaining: 0, resetSeconds: 60, windowSeconds: 3600 }],
};

describe(BatchService.name, () => {
  describe('create', () => {
    it('charges both quotas once, with the item count, then stores and wakes the workers', async () => {
      const { sut, charges, repository, queued } = givenService({});
      const { batch, replayed } = await sut.create(alice, {
        operation: 'diagnostics.echo',
        items: [{}, {}, {}],
      });
      expect(replayed).toBe(false);
      expect(charges).toEqual([
        [
          { policy: 'BATCH_OPERATIONS', cost: 1 },
          { policy: 'BATCH_ITEM_PROCESSING', cost: 3 },
        ],
      ]);
      expect(repository.calls).toEqual(['insertBatch', 'transaction', 'insertItems', 'seal']);
      expect(queued).toEqual([batch.id]);
    });

    it('charges nothing for an invalid envelope, an unknown operation or too many items', async () => {
      const { sut, charges } = givenService({});
      const bodies = [
        { operation: 'diagnostics.echo', items: 'nope' },
        { operation: 'nope', items: [{}] },
        { operation: 'diagnostics.echo', items: Array.from({ length: 10_001 }, () => ({})) },
      ];
      for (const body of bodies) await expect(sut.create(alice, body)).rejects.toBeInstanceOf(AppException);
      expect(charges).toEqual([]);
    });

    it('charges nothing for an idempotent replay', async () => {
      const repository = givenRepository([givenRecord({ status: BatchStatus.Completed })]);
      const { sut, charges, idempotency } = givenService({ repository });
      idempotency.begin.mockResolvedValueOnce({ kind: 'replay', batchId: 'b1' } as never);
      const { replayed } = await sut.create(alice, { operation: 'diagnostics.echo', items: [{}] }, 'key-1');
      expect(replayed).toBe(true);
      expect(charges).toEqual([]);
    });

    it('stores nothing and frees the key when a quota refuses', async () => {
      const { sut, repository, idempotency } = givenService({ decision: refused });
      const error = await sut
        .create(alice, { operation: 'diagnostics.echo', items: [{}] }, 'key-2')
        .catch((e) => e);
      expect(error).toMatchObject({
        code: 'RATE_LIMITED',
        headers: expect.objectContaining({ 'Retry-After': '60' }),
      });
      expect(repository.calls).toEqual([]);
      expect(idempotency.abandon).toHaveBeenCalledWith('alice', 'key-2');
    });

    it('lets the request through, and logs, when the limiter itself fails', async () => {
      const { sut, logged } = givenService({ decision: new Error('limiter storage down') });
      await expect(sut.create(alice, { operation: 'diagnostics.echo', items: [{}] })).resolves.toBeDefined();
      expect(logged).toContain('Rate limiter failed; allowing the request');
    });
  });

  describe('visibility and control rules', () => {
    it('hides another user’s batch (404) and shows it to admins', async () => {
      const { sut } = givenService({ repository: givenRepository([givenRecord()]) });
      await expect(sut.get({ userId: 'mallory', roles: [] }, 'b1')).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await expect(sut.get(admin, 'b1')).resolves.toMatchObject({ id: 'b1', userId: 'alice' });
    });

    it('refuses to retry a cancelled or unfinished batch without opening a transaction', async () => {
      for (const status of [BatchStatus.Cancelled, BatchStatus.Processing]) {
        const repository = givenRepository([givenRecord({ status })]);
        const { sut } = givenService({ repository });
        await expect(sut.retry(alice, 'b1', {})).rejects.toMatchObject({ code: 'INVALID_STATE' });
        expect(repository.calls).toEqual([]);
      }
    });

    it('refuses to list other users’ batches for non-admins', async () => {
      const { sut } = givenService({});
      await expect(sut.list(alice, { userId: 'bob' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });
  });
});
