/** One charge of one fixed window: `cost` more against `limit` in the window starting at `windowStart`. */
export interface WindowHit {
  identifier: string;
  policy: string;
  windowStart: number;
  expiresAt: number;
  cost: number;
  limit: number;
}
