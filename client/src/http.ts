import type {
  AppendItemsBody,
  AuditTrail,
  BatchView,
  CreateBatchBody,
  ErrorBody,
  Evaluation,
  FailureGroupsView,
  ExportItemsQuery,
  FlagView,
  ItemView,
  ListBatchesQuery,
  ListItemsQuery,
  ListPapersQuery,
  MyFeatures,
  OperationsView,
  PaperView,
  PatchFlagBody,
  PutFlagBody,
  RetryBody,
  RolloutPlanBody,
  RolloutPlanView,
  ThroughputQuery,
  ThroughputView,
} from './generated/api-types.js';

/** A page of a list: `nextCursor` is null on the last one. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** The server's answer to a request that failed: its code, message and details, and when a 429 lets the caller try again. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly correlationId: string | null;
  /** Seconds until a refused request may be sent again (429, from Retry-After); null otherwise. */
  readonly retryAfterSeconds: number | null;

  constructor(
    status: number,
    body: { code?: string; message?: string; details?: unknown; correlationId?: string } | null,
    retryAfter: string | null,
  ) {
    super(body?.message ?? `The server answered ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.code ?? (status === 0 ? 'NETWORK' : `HTTP_${status}`);
    this.details = body?.details ?? null;
    this.correlationId = body?.correlationId ?? null;
    const seconds = retryAfter === null ? NaN : Number(retryAfter);
    this.retryAfterSeconds = Number.isFinite(seconds) ? seconds : null;
  }

  /** The server's per-field messages (`details.errors`), when it gave any. */
  get fieldErrors(): string[] {
    const errors = (this.details as { errors?: unknown } | null)?.errors;
    return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
  }
}

export type TokenSource = string | (() => string | Promise<string>);

export interface HttpOptions {
  /** The server's origin plus any global prefix, e.g. `https://app.example.org/api`. */
  baseUrl: string;
  /** The caller's bearer token, or a function that returns the current one. */
  token: TokenSource;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /**
   * How long a keyed write waits for the first request with its Idempotency-Key (a double
   * click, a retry after a timeout) when the server answers 409 IDEMPOTENCY_IN_PROGRESS,
   * asking again until it gets that request's answer replayed; 0 rejects at once. Default 30 s.
   */
  idempotencyWaitMs?: number;
}

/** What a write may carry: an Idempotency-Key, so a repeated submit (a double click, a retry) does not create twice. */
export interface WriteOptions {
  idempotencyKey?: string;
}

export async function tokenOf(source: TokenSource): Promise<string> {
  return typeof source === 'function' ? source() : source;
}

const query = (params: object | undefined) => {
  const entries = Object.entries(params ?? {}).filter(([, v]) => v !== undefined && v !== null);
  return entries.length === 0
    ? ''
    : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
};
const segment = encodeURIComponent;

/**
 * Every REST call of the contract, typed from the server's own schemas. Errors reject
 * with ApiError (the contract's code, message and details); a network failure is an
 * ApiError with status 0 and code NETWORK.
 */
export class BatchHttpClient {
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: HttpOptions) {
    this.fetchFn = options.fetch ?? ((...args) => fetch(...args));
  }

  get baseUrl(): string {
    return this.options.baseUrl.replace(/\/+$/, '');
  }

  /**
   * A raw authorised request (exports stream their body). A keyed write answered 409
   * IDEMPOTENCY_IN_PROGRESS is sent again (50 ms, doubling to 1 s, for up to
   * `idempotencyWaitMs`) until the first request's answer is replayed.
   */
  async raw(method: string, path: string, body?: unknown, write: WriteOptions = {}): Promise<Response> {
    const giveUpAt = Date.now() + (write.idempotencyKey ? (this.options.idempotencyWaitMs ?? 30_000) : 0);
    for (let wait = 50; ; wait = Math.min(1000, wait * 2)) {
      try {
        return await this.once(method, path, body, write);
      } catch (error) {
        const inProgress = error instanceof ApiError && error.code === 'IDEMPOTENCY_IN_PROGRESS';
        if (!inProgress || Date.now() + wait > giveUpAt) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async once(method: string, path: string, body: unknown, write: WriteOptions): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${await tokenOf(this.options.token)}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (write.idempotencyKey) headers['Idempotency-Key'] = write.idempotencyKey;
    let res: Response;
    try {
      res = await this.fetchFn(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw Object.assign(new ApiError(0, { message: `The server did not answer: ${String(error)}` }, null), {
        cause: error,
      });
    }
    if (!res.ok) {
      const data = (await res.json().catch(() => null)) as Partial<ErrorBody> | null;
      // (ErrorBody's code is the server's enum; ApiError keeps any string a newer server may send.)
      throw new ApiError(res.status, data, res.headers.get('retry-after'));
    }
    return res;
  }

  private async json<T>(method: string, path: string, body?: unknown, write?: WriteOptions): Promise<T> {
    const res = await this.raw(method, path, body, write);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  // Batches
  createBatch(body: CreateBatchBody, write?: WriteOptions): Promise<BatchView> {
    return this.json('POST', '/batches', body, write);
  }
  appendItems(id: string, body: AppendItemsBody, write?: WriteOptions): Promise<BatchView> {
    return this.json('POST', `/batches/${segment(id)}/items`, body, write);
  }
  /** The operations a batch may name, with the JSON Schema of their items. */
  listOperations(): Promise<OperationsView> {
    return this.json('GET', '/batches/operations');
  }
  /** Items settled per time bucket of the batch's run (stored: works after a reload and for finished batches). */
  batchThroughput(id: string, q?: ThroughputQuery): Promise<ThroughputView> {
    return this.json('GET', `/batches/${segment(id)}/throughput${query(q)}`);
  }
  /** Failed items grouped by error and category, largest first; retry one with `retryBatch(id, { group })`. */
  failureGroups(id: string): Promise<FailureGroupsView> {
    return this.json('GET', `/batches/${segment(id)}/failures`);
  }
  getBatch(id: string): Promise<BatchView> {
    return this.json('GET', `/batches/${segment(id)}`);
  }
  listBatches(q?: ListBatchesQuery): Promise<Page<BatchView>> {
    return this.json('GET', `/batches${query(q)}`);
  }
  listItems(id: string, q?: ListItemsQuery): Promise<Page<ItemView>> {
    return this.json('GET', `/batches/${segment(id)}/items${query(q)}`);
  }
  /** The items as CSV or NDJSON, streamed: read `body` of the answer. */
  exportItems(id: string, q?: ExportItemsQuery): Promise<Response> {
    return this.raw('GET', `/batches/${segment(id)}/items/export${query(q)}`);
  }
  cancelBatch(id: string): Promise<BatchView> {
    return this.json('POST', `/batches/${segment(id)}/cancel`);
  }
  pauseBatch(id: string): Promise<BatchView> {
    return this.json('POST', `/batches/${segment(id)}/pause`);
  }
  resumeBatch(id: string): Promise<BatchView> {
    return this.json('POST', `/batches/${segment(id)}/resume`);
  }
  retryBatch(id: string, body: RetryBody = {}): Promise<BatchView> {
    return this.json('POST', `/batches/${segment(id)}/retry`, body);
  }

  // Papers
  listPapers(q?: ListPapersQuery): Promise<Page<PaperView> & { total: number }> {
    return this.json('GET', `/papers${query(q)}`);
  }
  getPaper(id: string): Promise<PaperView & { fullText: string | null }> {
    return this.json('GET', `/papers/${segment(id)}`);
  }

  // Feature flags
  myFeatures(): Promise<MyFeatures> {
    return this.json('GET', '/me/features');
  }
  listFlags(): Promise<{ data: FlagView[] }> {
    return this.json('GET', '/feature-flags');
  }
  getFlag(name: string): Promise<FlagView> {
    return this.json('GET', `/feature-flags/${segment(name)}`);
  }
  putFlag(name: string, body: PutFlagBody): Promise<FlagView> {
    return this.json('PUT', `/feature-flags/${segment(name)}`, body);
  }
  patchFlag(name: string, body: PatchFlagBody): Promise<FlagView> {
    return this.json('PATCH', `/feature-flags/${segment(name)}`, body);
  }
  deleteFlag(name: string): Promise<void> {
    return this.json('DELETE', `/feature-flags/${segment(name)}`);
  }
  flagAudit(name: string): Promise<AuditTrail> {
    return this.json('GET', `/feature-flags/${segment(name)}/audit`);
  }
  evaluateFlag(name: string, userId: string): Promise<Evaluation> {
    return this.json('GET', `/feature-flags/${segment(name)}/evaluate${query({ userId })}`);
  }

  // Rollout plans
  getRolloutPlan(flag: string): Promise<RolloutPlanView> {
    return this.json('GET', `/feature-flags/${segment(flag)}/rollout-plan`);
  }
  putRolloutPlan(flag: string, body: RolloutPlanBody): Promise<RolloutPlanView> {
    return this.json('PUT', `/feature-flags/${segment(flag)}/rollout-plan`, body);
  }
  rolloutPlanAction(flag: string, action: 'pause' | 'resume' | 'abort'): Promise<RolloutPlanView> {
    return this.json('POST', `/feature-flags/${segment(flag)}/rollout-plan/${action}`);
  }
  deleteRolloutPlan(flag: string): Promise<void> {
    return this.json('DELETE', `/feature-flags/${segment(flag)}/rollout-plan`);
  }
}
