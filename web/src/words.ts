import { ApiError } from '../../client/src/index';

/** Plain words for the codes the API speaks. */
export const STATUS_WORDS: Record<string, string> = {
  pending: 'waiting to start',
  processing: 'processing',
  paused: 'paused',
  completed: 'completed',
  completed_with_errors: 'completed with errors',
  failed: 'failed',
  cancelled: 'cancelled',
  queued: 'queued',
  success: 'succeeded',
};

export const CATEGORY_WORDS: Record<string, string> = {
  invalid_item: 'invalid item',
  interrupted: 'interrupted',
  paywall: 'behind a paywall',
  not_found: 'not found',
  not_pdf: 'not a PDF',
  rate_limited: 'rate limited',
  timeout: 'timed out',
  server_error: 'server error',
  parse_error: 'could not be read',
  blocked_address: 'blocked address',
  unknown_operation: 'unknown operation',
};

export const REASON_WORDS: Record<string, string> = {
  SPLIT: 'you are in its rollout share',
  DEFAULT: 'you are outside its rollout share',
  TARGETING_MATCH: 'you are on its allow or deny list',
  DISABLED: 'it is switched off for everyone',
  ERROR: 'it is not defined',
};

export const statusWord = (status: string) => STATUS_WORDS[status] ?? status.replace(/_/g, ' ');
export const categoryWord = (category: string | null) =>
  category === null ? '' : (CATEGORY_WORDS[category] ?? category.replace(/_/g, ' '));
export const reasonWord = (reason: string) => REASON_WORDS[reason] ?? reason.toLowerCase().replace(/_/g, ' ');

/** What went wrong, in a sentence a user can act on (429: when to try again). */
export function problemOf(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  if (error.status === 0) return 'The server cannot be reached. Check your connection and try again.';
  if (error.code === 'RATE_LIMITED')
    return error.retryAfterSeconds !== null
      ? `Too many requests: you can try again in ${waitWords(error.retryAfterSeconds)} (at ${new Date(Date.now() + error.retryAfterSeconds * 1000).toLocaleTimeString()}).`
      : 'Too many requests: try again later.';
  if (error.code === 'UNAUTHENTICATED') return 'Your sign-in has expired or was refused. Sign in again.';
  if (error.code === 'FEATURE_DISABLED') return 'Batch operations are not switched on for you.';
  return error.message;
}

export function waitWords(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.ceil(seconds))} s`;
  if (seconds < 5400) return `${Math.ceil(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

export const number = (n: number) => n.toLocaleString('en-US');

export function timeAgo(iso: string | null, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.max(0, s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}
