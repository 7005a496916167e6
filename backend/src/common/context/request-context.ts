import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContextStore {
  correlationId: string;
  userId?: string;
  batchId?: string;
  startTime: number;
}

const storage = new AsyncLocalStorage<RequestContextStore>();

const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The correlation context carried through every async hop. One small wrapper over
 * AsyncLocalStorage (no extra library): the request middleware, the batch worker and
 * timers all enter it through `run`.
 */
export const RequestContext = {
  run<T>(store: Partial<RequestContextStore> & { correlationId: string }, fn: () => T): T {
    return storage.run({ startTime: Date.now(), ...store }, fn);
  },
  get(): RequestContextStore | undefined {
    return storage.getStore();
  },
  correlationId(): string | undefined {
    return storage.getStore()?.correlationId;
  },
  setUser(userId: string): void {
    const store = storage.getStore();
    if (store) store.userId = userId;
  },
  /** Keeps a client-supplied id when it is well-formed, otherwise mints a UUID v4. */
  acceptOrCreate(candidate: unknown): string {
    return typeof candidate === 'string' && CORRELATION_ID_PATTERN.test(candidate) ? candidate : randomUUID();
  },
};
