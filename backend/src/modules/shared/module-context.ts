import { AsyncLocalStorage } from 'node:async_hooks';
import type { ContextStore, RequestContextPort } from './ports';

const storage = new AsyncLocalStorage<ContextStore>();

/**
 * The modules' own async context, wrapped around the host's: `run` enters both (so host
 * code called inside still sees its correlation id), and every module log line takes
 * `correlationId`, `userId` and `batchId` from here, falling back to the host's
 * correlation id inside a request. The module never relies on the host's logger to read
 * any context: the real host's logger does not.
 */
export class ModuleContext implements RequestContextPort {
  constructor(private readonly host: RequestContextPort) {}

  correlationId(): string | undefined {
    return storage.getStore()?.correlationId ?? this.host.correlationId();
  }

  run<T>(store: ContextStore, fn: () => T): T {
    return storage.run(store, () => this.host.run(store, fn));
  }

  /** The fields every log line written here carries (absent ones left out). */
  fields(): Record<string, string> {
    const own = storage.getStore();
    const fields: Record<string, string> = {};
    const correlationId = own?.correlationId ?? this.host.correlationId();
    if (correlationId) fields.correlationId = correlationId;
    if (own?.userId) fields.userId = own.userId;
    if (own?.batchId) fields.batchId = own.batchId;
    return fields;
  }
}
