import { Injectable, Scope, SetMetadata } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { z } from 'zod';
import { BATCH_OPERATION_NAME, BatchOperation, type BatchOperationHandler } from './batch-operation';
import { BATCH_OPTIONS } from '../batch.options';
import { DiagnosticsEchoOperation } from './diagnostics-echo.operation';
import { InvalidBatchOperationError, OperationRegistry } from './operation.registry';

@BatchOperation('test.class')
class ClassOperation implements BatchOperationHandler {
  readonly itemSchema = z.object({});
  readonly transactional = false;
  process = async () => [];
}

@BatchOperation('test.factory')
class FactoryOperation extends ClassOperation {}

@BatchOperation('test.value')
class ValueOperation extends ClassOperation {}

@BatchOperation('test.class')
class SameNameOperation extends ClassOperation {}

@Injectable({ scope: Scope.REQUEST })
@SetMetadata(BATCH_OPERATION_NAME, 'test.request-scoped')
class RequestScopedOperation extends ClassOperation {}

@BatchOperation('test.no-process')
class ShapelessOperation {
  readonly itemSchema = z.object({});
  readonly transactional = 'yes';
  readonly maxCallItems = 1_000;
}

describe(OperationRegistry.name, () => {
  const given = async (providers: unknown[]) => {
    const module = await Test.createTestingModule({
      imports: [DiscoveryModule],
      providers: [OperationRegistry, ...(providers as never[])],
    }).compile();
    await module.init();
    return module.get(OperationRegistry);
  };

  it('finds class, factory and value providers', async () => {
    const sut = await given([
      ClassOperation,
      { provide: 'FACTORY_OPERATION', useFactory: () => new FactoryOperation() },
      { provide: 'VALUE_OPERATION', useValue: new ValueOperation() },
    ]);
    expect(sut.names()).toEqual(['test.class', 'test.factory', 'test.value']);
    expect(sut.get('test.factory')).toBeInstanceOf(FactoryOperation);
  });

  it('registers diagnostics.echo only when the host opts in', async () => {
    expect((await given([DiagnosticsEchoOperation])).names()).toEqual([]);
    const optedIn = await given([
      DiagnosticsEchoOperation,
      { provide: BATCH_OPTIONS, useValue: { diagnostics: true } },
    ]);
    expect(optedIn.names()).toEqual(['diagnostics.echo']);
  });

  it('stops start-up when two providers claim one name', async () => {
    await expect(given([ClassOperation, SameNameOperation])).rejects.toThrow(
      /Two providers are registered as batch operation "test.class": ClassOperation and SameNameOperation/,
    );
  });

  it('stops start-up for a request-scoped operation', async () => {
    await expect(given([RequestScopedOperation])).rejects.toThrow(InvalidBatchOperationError);
  });

  it('stops start-up for a handler of the wrong shape, naming what is wrong', async () => {
    await expect(given([ShapelessOperation])).rejects.toThrow(
      'Batch operation "test.no-process" (ShapelessOperation) cannot be used: process(items, ctx) is not a method; transactional is not a boolean; maxCallItems is not an integer from 1 to 500',
    );
  });
});
