const SECRET_KEY = /authorization|token|password|passwd|secret|cookie|api[-_]?key/i;
const BEARER = /Bearer\s+[A-Za-z0-9\-._~+/]+=*/g;
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;

/** Replaces secret-looking keys and token-looking strings; never mutates its input. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string')
    return value.replace(BEARER, 'Bearer [REDACTED]').replace(JWT_LIKE, '[REDACTED]');
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value))
    out[key] = SECRET_KEY.test(key) ? '[REDACTED]' : redact(v, depth + 1);
  return out;
}
