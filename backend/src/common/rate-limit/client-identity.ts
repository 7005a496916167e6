import type { Request } from 'express';
import type { AuthUser } from '../auth/auth-user';

/**
 * Who a request counts against: the verified user id, else the client IP
 * (Express resolves `req.ip` through TRUST_PROXY_HOPS trusted proxies only).
 */
export function clientIdentity(req: Request & { user?: AuthUser }): string {
  return req.user ? `user:${req.user.userId}` : `ip:${req.ip ?? 'unknown'}`;
}
