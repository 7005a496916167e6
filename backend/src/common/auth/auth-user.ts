export interface AuthUser {
  userId: string;
  roles: string[];
  /** Expiry of the token, epoch seconds. */
  exp?: number;
}

export const ADMIN_ROLE = 'admin';

export function isAdmin(user: AuthUser): boolean {
  return user.roles.includes(ADMIN_ROLE);
}
