import type Redis from 'ioredis';
import type { WindowHit } from './window-hit';

/**
 * All-or-nothing charge of several fixed windows in one Lua script, so every instance
 * sharing the Redis sees the same counts: if any window would exceed its limit, none
 * moves. Returns {1, counts…} when charged, {0, counts…} when refused.
 */
const CONSUME = `
local n = #KEYS
for i = 1, n do
  local cost = tonumber(ARGV[(i - 1) * 3 + 1])
  local limit = tonumber(ARGV[(i - 1) * 3 + 2])
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if current + cost > limit then
    local out = {0}
    for j = 1, n do out[j + 1] = tonumber(redis.call('GET', KEYS[j]) or '0') end
    return out
  end
end
local out = {1}
for i = 1, n do
  local cost = tonumber(ARGV[(i - 1) * 3 + 1])
  local ttl = tonumber(ARGV[(i - 1) * 3 + 3])
  local value = redis.call('INCRBY', KEYS[i], cost)
  if value == cost then redis.call('PEXPIRE', KEYS[i], ttl) end
  out[i + 1] = value
end
return out`;

export class RedisWindowStore {
  constructor(private readonly redis: Redis) {}

  async consume(hits: WindowHit[], now: number): Promise<{ allowed: boolean; counts: number[] }> {
    const keys = hits.map((h) => `rl:${h.identifier}:${h.policy}:${h.windowStart}`);
    const args = hits.flatMap((h) => [h.cost, h.limit, Math.max(1, h.expiresAt - now)]);
    const result = (await this.redis.eval(CONSUME, keys.length, ...keys, ...args)) as number[];
    return { allowed: result[0] === 1, counts: result.slice(1).map(Number) };
  }
}
