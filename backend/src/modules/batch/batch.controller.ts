import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ModuleExceptionFilter } from '../shared/errors/module-exception.filter';
import { ApplicationConfig } from '@nestjs/core';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../shared/errors/error-code';
import { ApiErrors, ApiOk, pageOf } from '../shared/openapi';
import { batchViewSchema, failureGroupsSchema, itemViewSchema, throughputSchema } from './batch.types';
import { OperationRegistry } from './operations/operation.registry';
import { z } from 'zod';
import type { Response } from 'express';
import { CurrentUser, ModuleAuthGuard } from '../shared/module-auth';
import type { ModuleUser } from '../shared/ports';
import { RequireFeature, RequireFeatureGuard } from '../feature-flags';
import { BatchService } from './batch.service';
import { RequestSizeGuard } from './request-size.guard';
import { ApiBodyFrom, ApiQueryFrom, openApiOf, ZodBody, ZodQuery } from '../shared/zod-params';
import {
  type ListBatchesQuery,
  listBatchesQuerySchema,
  type ListItemsQuery,
  listItemsQuerySchema,
  type ExportItemsQuery,
  exportItemsQuerySchema,
  type ThroughputQuery,
  throughputQuerySchema,
} from './dto/batch-query.dto';
import {
  appendItemsSchema,
  createBatchSchema,
  type RetryBody,
  retryBatchSchema,
} from './dto/create-batch.schema';

export const operationsSchema = z.object({
  data: z.array(
    z.object({
      name: z.string(),
      itemSchema: z.record(z.string(), z.unknown()).describe('JSON Schema of one item'),
    }),
  ),
});

/** The optional Idempotency-Key header of the writes that store items. */
const ApiIdempotencyKey = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: '1…255 characters; the same key and body within 24 h replay the first answer',
  });

@ApiTags('batches')
@ApiBearerAuth()
@ApiErrors(ErrorCode.Unauthenticated, ErrorCode.FeatureDisabled)
@RequireFeature('BATCH_OPERATIONS')
@UseFilters(ModuleExceptionFilter)
@UseGuards(ModuleAuthGuard, RequireFeatureGuard)
@Controller('batches')
export class BatchController {
  constructor(
    private readonly batches: BatchService,
    private readonly app: ApplicationConfig,
    private readonly registry: OperationRegistry,
  ) {}

  @Post()
  @UseGuards(RequestSizeGuard)
  @ApiOperation({
    summary:
      'Submit a batch (202). Errors: 400 VALIDATION_FAILED/UNKNOWN_OPERATION, 409 IDEMPOTENCY_IN_PROGRESS, 413 BATCH_TOO_LARGE/PAYLOAD_TOO_LARGE, 422 IDEMPOTENCY_KEY_REUSED, 429 RATE_LIMITED',
  })
  @ApiIdempotencyKey()
  @ApiBodyFrom(createBatchSchema)
  @ApiOk(202, batchViewSchema, 'Accepted: the stored batch (header Location: /batches/<id>)')
  @ApiOk(200, batchViewSchema, 'Idempotent replay of the first answer (header Idempotent-Replayed: true)')
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.UnknownOperation,
    ErrorCode.IdempotencyInProgress,
    ErrorCode.IdempotencyKeyReused,
    ErrorCode.BatchTooLarge,
    ErrorCode.PayloadTooLarge,
  )
  async create(
    @CurrentUser() user: ModuleUser,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const written = await this.batches.create(user, body, key);
    res.location(`${routePrefix(this.app)}/batches/${written.batch.id}`);
    return accepted(res, written);
  }

  @Post(':id/items')
  @UseGuards(RequestSizeGuard)
  @ApiOperation({
    summary:
      'Append items to your batch until it ends (202: the batch with its new itemCount). Errors: 400 VALIDATION_FAILED, 404 NOT_FOUND, 409 INVALID_STATE (ended or cancelled) / IDEMPOTENCY_IN_PROGRESS, 413 BATCH_TOO_LARGE/PAYLOAD_TOO_LARGE, 422 IDEMPOTENCY_KEY_REUSED, 429 RATE_LIMITED',
  })
  @ApiIdempotencyKey()
  @ApiBodyFrom(appendItemsSchema)
  @ApiOk(202, batchViewSchema, 'Accepted: the batch with the added items counted')
  @ApiOk(200, batchViewSchema, 'Idempotent replay (header Idempotent-Replayed: true): the batch now')
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.NotFound,
    ErrorCode.InvalidState,
    ErrorCode.IdempotencyInProgress,
    ErrorCode.IdempotencyKeyReused,
    ErrorCode.BatchTooLarge,
    ErrorCode.PayloadTooLarge,
  )
  async append(
    @CurrentUser() user: ModuleUser,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return accepted(res, await this.batches.append(user, id, body, key));
  }

  @Get()
  @ApiOperation({ summary: 'Your batches, newest first (admins may filter by userId)' })
  @ApiQueryFrom(listBatchesQuerySchema)
  @ApiOk(200, pageOf(batchViewSchema), 'The page, newest first')
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.Forbidden)
  list(@CurrentUser() user: ModuleUser, @ZodQuery(listBatchesQuerySchema) query: ListBatchesQuery) {
    return this.batches.list(user, query);
  }

  // Declared before ':id', which would otherwise take the word for a batch id.
  @Get('operations')
  @ApiOperation({ summary: 'The operations batches may name, with the JSON Schema of their items' })
  @ApiOk(200, operationsSchema, 'The operations, by name')
  operations() {
    return {
      data: this.registry.names().map((name) => ({
        name,
        itemSchema: openApiOf(this.registry.get(name)!.itemSchema, 'input'),
      })),
    };
  }

  @Get(':id')
  @ApiOk(200, batchViewSchema, 'The batch')
  @ApiErrors(ErrorCode.NotFound)
  @ApiOperation({ summary: 'One batch (404 NOT_FOUND if not yours)' })
  get(@CurrentUser() user: ModuleUser, @Param('id') id: string) {
    return this.batches.get(user, id);
  }

  @Get(':id/items')
  @ApiOperation({ summary: 'Items of a batch by position' })
  @ApiQueryFrom(listItemsQuerySchema)
  @ApiOk(200, pageOf(itemViewSchema), 'The page, by seq')
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  items(
    @CurrentUser() user: ModuleUser,
    @Param('id') id: string,
    @ZodQuery(listItemsQuerySchema) query: ListItemsQuery,
  ) {
    return this.batches.listItems(user, id, query);
  }

  @Get(':id/throughput')
  @ApiOperation({ summary: 'Items settled per time bucket of the run, by outcome (stored history)' })
  @ApiQueryFrom(throughputQuerySchema)
  @ApiOk(200, throughputSchema, 'The buckets, oldest first')
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  throughput(
    @CurrentUser() user: ModuleUser,
    @Param('id') id: string,
    @ZodQuery(throughputQuerySchema) query: ThroughputQuery,
  ) {
    return this.batches.throughput(user, id, query);
  }

  @Get(':id/failures')
  @ApiOperation({ summary: 'Failed items grouped by error and category, largest groups first' })
  @ApiOk(200, failureGroupsSchema, 'At most 100 groups')
  @ApiErrors(ErrorCode.NotFound)
  failures(@CurrentUser() user: ModuleUser, @Param('id') id: string) {
    return this.batches.failures(user, id);
  }

  @Get(':id/items/export')
  @ApiQueryFrom(exportItemsQuerySchema)
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiResponse({ status: 200, description: 'The items as an attachment', schema: { type: 'string' } })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  @ApiOperation({
    summary:
      'Download the items as CSV (seq,status,attempts,error,payload,result,errorCategory,retryable; JSON cells) or NDJSON, streamed (404 NOT_FOUND, 429 RATE_LIMITED on the EXPORT quota)',
  })
  async export(
    @CurrentUser() user: ModuleUser,
    @Param('id') id: string,
    @ZodQuery(exportItemsQuerySchema) query: ExportItemsQuery,
    @Res() res: Response,
  ): Promise<void> {
    const { headers, write } = await this.batches.exportItems(user, id, query);
    res.status(200);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    try {
      await write(res);
    } finally {
      res.end();
    }
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiOk(202, batchViewSchema, 'The batch after the change')
  @ApiErrors(ErrorCode.NotFound, ErrorCode.InvalidState)
  @ApiOperation({
    summary: 'Cancel queued items; the chunk in flight finishes (409 INVALID_STATE if finished)',
  })
  cancel(@CurrentUser() user: ModuleUser, @Param('id') id: string) {
    return this.batches.cancel(user, id);
  }

  @Post(':id/pause')
  @HttpCode(202)
  @ApiOk(202, batchViewSchema, 'The batch after the change')
  @ApiErrors(ErrorCode.NotFound, ErrorCode.InvalidState)
  @ApiOperation({ summary: 'Pause (409 INVALID_STATE unless pending or processing)' })
  pause(@CurrentUser() user: ModuleUser, @Param('id') id: string) {
    return this.batches.pause(user, id);
  }

  @Post(':id/resume')
  @HttpCode(202)
  @ApiOk(202, batchViewSchema, 'The batch after the change')
  @ApiErrors(ErrorCode.NotFound, ErrorCode.InvalidState)
  @ApiOperation({ summary: 'Resume a paused batch (409 INVALID_STATE otherwise)' })
  resume(@CurrentUser() user: ModuleUser, @Param('id') id: string) {
    return this.batches.resume(user, id);
  }

  @Post(':id/retry')
  @UseGuards(RequestSizeGuard)
  @HttpCode(202)
  @ApiOk(202, batchViewSchema, 'The batch, processing again')
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound, ErrorCode.InvalidState)
  @ApiBodyFrom(retryBatchSchema, false)
  @ApiOperation({ summary: 'Queue failed items again (409 INVALID_STATE if not finished or nothing failed)' })
  retry(
    @CurrentUser() user: ModuleUser,
    @Param('id') id: string,
    @ZodBody(retryBatchSchema) body: RetryBody,
  ) {
    return this.batches.retry(user, id, body);
  }
}

/** The host's global prefix (`app.setGlobalPrefix('api')` → `/api`), for the URLs the module emits. */
function routePrefix(app: ApplicationConfig): string {
  const prefix = app.getGlobalPrefix().replace(/^\/+|\/+$/g, '');
  return prefix ? `/${prefix}` : '';
}

/** 202 with the quota headers, or 200 with `Idempotent-Replayed: true` for a replay; the batch as the body. */
function accepted<T>(
  res: Response,
  written: { batch: T; replayed: boolean; rateLimitHeaders: Record<string, string> },
): T {
  res.status(written.replayed ? 200 : 202);
  for (const [name, value] of Object.entries(written.rateLimitHeaders)) res.setHeader(name, value);
  if (written.replayed) res.setHeader('Idempotent-Replayed', 'true');
  return written.batch;
}
