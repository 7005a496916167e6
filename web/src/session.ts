/** Who is signed in: the bearer token (kept in this browser's storage) and what it says. */
export interface Session {
  token: string;
  userId: string;
  admin: boolean;
  /** Epoch ms when the token stops being accepted. */
  expiresAt: number | null;
}

const KEY = 'batch-ops.token';

/** The claims of a JWT, or null when `token` is not one (the server is the judge; this only shows who). */
export function sessionOf(token: string): Session | null {
  const part = token.trim().split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json) as { sub?: unknown; roles?: unknown; exp?: unknown };
    if (typeof claims.sub !== 'string') return null;
    return {
      token: token.trim(),
      userId: claims.sub,
      admin: Array.isArray(claims.roles) && claims.roles.includes('admin'),
      expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
    };
  } catch {
    return null;
  }
}

export function storedSession(): Session | null {
  const token = localStorage.getItem(KEY);
  const session = token ? sessionOf(token) : null;
  return session && (session.expiresAt === null || session.expiresAt > Date.now()) ? session : null;
}

export function storeSession(session: Session | null): void {
  if (session) localStorage.setItem(KEY, session.token);
  else localStorage.removeItem(KEY);
}
