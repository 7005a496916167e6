import { Injectable } from '@nestjs/common';
import { HostPrismaService } from './host-prisma.service';

export interface HostRateLimitConfig {
  windowMs: number;
  maxRequests: number;
}

export interface HostHit {
  allowed: boolean;
  count: number;
  resetAt: number;
}

/** The host's database-backed limiter: fixed windows per (identifier, endpoint). */
@Injectable()
export class HostRateLimitingService {
  constructor(private readonly prisma: HostPrismaService) {}

  /**
   * Charges `cost` to every (endpoint, config) of `hits` in one transaction, or none
   * of them when one would go over its limit.
   */
  async checkAll(
    identifier: string,
    hits: { endpoint: string; cost: number; config: HostRateLimitConfig }[],
  ): Promise<HostHit[]> {
    const now = Date.now();
    return this.prisma.$transaction(async (tx) => {
      const results: HostHit[] = [];
      for (const { endpoint, cost, config } of hits) {
        const windowStart = new Date(Math.floor(now / config.windowMs) * config.windowMs);
        const key = { identifier, endpoint, windowStart };
        const row = await tx.hostRateLimit.findUnique({ where: { identifier_endpoint_windowStart: key } });
        const count = (row?.count ?? 0) + cost;
        results.push({
          allowed: count <= config.maxRequests,
          count,
          resetAt: windowStart.getTime() + config.windowMs,
        });
      }
      if (results.every((r) => r.allowed)) {
        for (const [i, { endpoint, config }] of hits.entries()) {
          const windowStart = new Date(Math.floor(now / config.windowMs) * config.windowMs);
          await tx.hostRateLimit.upsert({
            where: { identifier_endpoint_windowStart: { identifier, endpoint, windowStart } },
            create: { identifier, endpoint, windowStart, count: results[i].count },
            update: { count: results[i].count },
          });
        }
      }
      return results;
    });
  }
}
