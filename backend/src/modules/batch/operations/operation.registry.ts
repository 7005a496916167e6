import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { formatIssues } from '../../shared/zod-params';
import { BATCH_OPTIONS, type BatchModuleOptions } from '../batch.options';
import { BATCH_OPERATION_NAME, BatchOperationHandler } from './batch-operation';
import { DiagnosticsEchoOperation } from './diagnostics-echo.operation';

export type ItemCheck = { ok: true; value: unknown } | { ok: false; errors: string[] };

/** A `@BatchOperation()` provider that cannot serve; thrown at start-up, never when an item runs. */
export class InvalidBatchOperationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBatchOperationError';
  }
}

/**
 * Every @BatchOperation() provider, by name, found at start-up in the style of Nest's own
 * explorers (`@nestjs/bull`'s): class and factory providers alike (the metadata is read
 * from the instance's class when the provider's own type carries none), and start-up
 * stops with a clear error for two providers of one name, a request-scoped provider, or a
 * handler of the wrong shape.
 */
@Injectable()
export class OperationRegistry implements OnModuleInit {
  private readonly handlers = new Map<string, BatchOperationHandler>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    @Optional() @Inject(BATCH_OPTIONS) private readonly options?: Pick<BatchModuleOptions, 'diagnostics'>,
  ) {}

  onModuleInit(): void {
    const owners = new Map<string, string>();
    for (const wrapper of this.discovery.getProviders()) {
      const name = this.nameOf(wrapper);
      if (!name) continue;
      const provider = String(wrapper.name);
      if (!wrapper.isDependencyTreeStatic())
        throw new InvalidBatchOperationError(
          `Batch operation "${name}" (${provider}) is request-scoped; operations run outside any request, so they must be singletons`,
        );
      const handler = wrapper.instance as BatchOperationHandler;
      if (handler instanceof DiagnosticsEchoOperation && !this.options?.diagnostics) continue;
      const existing = this.handlers.get(name);
      if (existing === handler) continue; // the same provider seen through another module
      if (existing)
        throw new InvalidBatchOperationError(
          `Two providers are registered as batch operation "${name}": ${owners.get(name)} and ${provider}`,
        );
      checkShape(name, provider, handler);
      this.handlers.set(name, handler);
      owners.set(name, provider);
    }
  }

  names(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** The operations that declare limits, with them. */
  limited(): [string, NonNullable<BatchOperationHandler['limits']>][] {
    return [...this.handlers].flatMap(([name, handler]) =>
      handler.limits
        ? [[name, handler.limits] as [string, NonNullable<BatchOperationHandler['limits']>]]
        : [],
    );
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

  /** The operation name on the provider's type, or on its instance's class (factory and value providers). */
  private nameOf(wrapper: InstanceWrapper): string | undefined {
    const fromType =
      typeof wrapper.metatype === 'function'
        ? this.reflector.get<string | undefined>(BATCH_OPERATION_NAME, wrapper.metatype)
        : undefined;
    if (fromType) return fromType;
    const instance = wrapper.instance as object | null | undefined;
    if (!instance || typeof instance !== 'object' || instance.constructor === Object) return undefined;
    return this.reflector.get<string | undefined>(BATCH_OPERATION_NAME, instance.constructor);
  }
}

function checkShape(name: string, provider: string, handler: BatchOperationHandler | undefined): void {
  const problems: string[] = [];
  if (!handler || typeof handler !== 'object') problems.push('it has no instance');
  else {
    if (typeof handler.process !== 'function') problems.push('process(items, ctx) is not a method');
    if (typeof (handler.itemSchema as { safeParse?: unknown } | undefined)?.safeParse !== 'function')
      problems.push('itemSchema is not a zod schema');
    if (typeof handler.transactional !== 'boolean') problems.push('transactional is not a boolean');
    const { maxCallItems } = handler;
    if (
      maxCallItems !== undefined &&
      !(Number.isInteger(maxCallItems) && maxCallItems >= 1 && maxCallItems <= 500)
    )
      problems.push('maxCallItems is not an integer from 1 to 500');
    const limits = handler.limits;
    if (limits !== undefined) {
      if (!Number.isInteger(limits.concurrency) || limits.concurrency < 1)
        problems.push('limits.concurrency is not a positive integer');
      if (
        limits.rate !== undefined &&
        (!Number.isInteger(limits.rate.count) || limits.rate.count < 1 || !(limits.rate.windowMs > 0))
      )
        problems.push('limits.rate needs a positive integer count and a positive windowMs');
    }
  }
  if (problems.length > 0)
    throw new InvalidBatchOperationError(
      `Batch operation "${name}" (${provider}) cannot be used: ${problems.join('; ')}`,
    );
}
