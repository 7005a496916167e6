import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { formatIssues } from '../../shared/zod-params';
import { BATCH_OPERATION_NAME, BatchOperationHandler } from './batch-operation';

export type ItemCheck = { ok: true; value: unknown } | { ok: false; errors: string[] };

/** Every @BatchOperation() provider, by name. */
@Injectable()
export class OperationRegistry implements OnModuleInit {
  private readonly handlers = new Map<string, BatchOperationHandler>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance) continue;
      const name = this.reflector.get<string | undefined>(BATCH_OPERATION_NAME, wrapper.metatype);
      if (name) this.handlers.set(name, wrapper.instance as BatchOperationHandler);
    }
  }

  names(): string[] {
    return [...this.handlers.keys()].sort();
  }

  get(name: string): BatchOperationHandler | undefined {
    return this.handlers.get(name);
  }

  check(handler: BatchOperationHandler, payload: unknown): ItemCheck {
    const parsed = handler.itemSchema.safeParse(payload);
    return parsed.success
      ? { ok: true, value: parsed.data }
      : { ok: false, errors: formatIssues(parsed.error.issues) };
  }
}
