import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { HostPrismaService } from './host-prisma.service';

export interface HostRateLimitConfig {
  windowMs: number;
  maxRequests: number;
}

/**
 * The host's limiter in the real host's shape: one call per (identifier, endpoint) that
 * throws when over the limit and returns nothing, no all-or-nothing call across policies,
 * and a read-then-write that is not exact under concurrency. The modules do not use it:
 * they charge their own policies (a host limiter is a choice, not a requirement).
 */
@Injectable()
export class HostRateLimitingService {
  constructor(private readonly prisma: HostPrismaService) {}

  async checkRateLimit(identifier: string, endpoint: string, config: HostRateLimitConfig): Promise<void> {
    const windowStart = new Date(Math.floor(Date.now() / config.windowMs) * config.windowMs);
    const key = { identifier, endpoint, windowStart };
    const row = await this.prisma.hostRateLimit.findUnique({
      where: { identifier_endpoint_windowStart: key },
    });
    const count = (row?.count ?? 0) + 1;
    if (count > config.maxRequests)
      throw new HttpException('Too many requests', HttpStatus.TOO_MANY_REQUESTS);
    await this.prisma.hostRateLimit.upsert({
      where: { identifier_endpoint_windowStart: key },
      create: { ...key, count },
      update: { count },
    });
  }
}
