import type { ItemOutcome } from '../../batch';

/** Why a paper's full text could not be fetched (stored on the item, shown by the API and the page). */
export type FulltextErrorCategory =
  | 'paywall'
  | 'not_found'
  | 'not_pdf'
  | 'too_large'
  | 'rate_limited'
  | 'timeout'
  | 'server_error'
  | 'network_error'
  | 'parse_error'
  | 'blocked_address'
  | 'too_many_redirects';

/** A failure that says what went wrong, whether retrying can help, and when at the earliest. */
export class FetchFailure extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  /** The item waited for a held host and did not run (its attempt is given back). */
  readonly deferred: boolean;
  /** The host whose answer (or silence) this is, when known: its policy decides the retry. */
  host?: string;

  constructor(
    message: string,
    readonly category: FulltextErrorCategory,
    /** What the paper's fullTextStatus becomes when this failure is final (null: unchanged). */
    readonly paperStatus: 'not_available' | 'failed' | null,
    options: { retryable?: boolean; retryAfterMs?: number; deferred?: boolean } = {},
  ) {
    super(message);
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.deferred = options.deferred ?? false;
  }

  /** Downloads from `host` are held (it answered 429): wait `waitMs` without spending an attempt. */
  static held(host: string, waitMs: number): FetchFailure {
    return new FetchFailure(`Waiting for ${host} (it asked to slow down)`, 'rate_limited', null, {
      retryable: true,
      retryAfterMs: Math.max(0, waitMs),
      deferred: true,
    });
  }

  /** Every slot of `host` is taken, or its rate window is spent: wait without spending an attempt. */
  static busy(host: string, waitMs: number): FetchFailure {
    return new FetchFailure(`Waiting for a free download slot at ${host}`, 'rate_limited', null, {
      retryable: true,
      retryAfterMs: Math.max(0, Math.ceil(waitMs)),
      deferred: true,
    });
  }

  /** This failure under `host`'s retry policy: given up after its maxAttempts, retried after its backoff. */
  underPolicy(
    policy: { maxAttempts?: number; backoffMs?: number },
    attempt: number,
    random = Math.random(),
  ): FetchFailure {
    if (!this.retryable || this.deferred) return this;
    if (policy.maxAttempts !== undefined && attempt >= policy.maxAttempts)
      return new FetchFailure(
        `${this.message} (gave up after ${attempt} attempt(s), the limit for ${this.host})`,
        this.category,
        this.paperStatus,
      );
    if (policy.backoffMs === undefined) return this;
    const backoff = policy.backoffMs * 2 ** Math.max(0, attempt - 1) * (0.8 + 0.4 * random);
    return new FetchFailure(this.message, this.category, this.paperStatus, {
      retryable: true,
      retryAfterMs: Math.max(this.retryAfterMs ?? 0, Math.round(backoff)),
    });
  }

  toOutcome(): ItemOutcome {
    return {
      ok: false,
      error: this.message,
      permanent: !this.retryable,
      retryAfterMs: this.retryAfterMs,
      deferred: this.deferred || undefined,
      errorCategory: this.category,
    };
  }
}

/**
 * `Retry-After` in seconds or as an HTTP date, in ms from now (0 when absent, negative,
 * past or unreadable). Not capped here: the engine caps holds and next attempts.
 */
export function retryAfterMs(header: string | string[] | undefined, now: number): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}

/** The failure an HTTP status means for a PDF download. */
export function failureForStatus(
  status: number,
  retryAfter: string | string[] | undefined,
  now: number,
): FetchFailure {
  if (status === 404 || status === 410)
    return new FetchFailure(`No full text (${status})`, 'not_found', 'not_available');
  if (status === 401 || status === 402 || status === 403)
    return new FetchFailure(`Paywalled or forbidden (${status})`, 'paywall', 'failed');
  const wait = retryAfterMs(retryAfter, now) || undefined;
  if (status === 429)
    return new FetchFailure(`The publisher answered ${status}`, 'rate_limited', 'failed', {
      retryable: true,
      retryAfterMs: wait,
    });
  if (status >= 500)
    return new FetchFailure(`The publisher answered ${status}`, 'server_error', 'failed', {
      retryable: true,
      retryAfterMs: wait,
    });
  return new FetchFailure(`The publisher answered ${status}`, 'not_found', 'failed');
}
