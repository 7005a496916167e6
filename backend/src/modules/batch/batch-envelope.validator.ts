import { Inject, Injectable } from '@nestjs/common';
import { AppException } from '../shared/errors/app-exception';
import { ErrorCode } from '../shared/errors/error-code';
import { BATCH_SETTINGS, type BatchSettings } from './batch.options';
import { formatIssues } from '../shared/zod-params';
import { OperationRegistry } from './operations/operation.registry';
import type { BatchOptions } from './batch.types';
import { createBatchSchema, MAX_ITEM_BYTES, MAX_REPORTED_ITEM_ERRORS } from './dto/create-batch.schema';
import {
  hasUnstorableText,
  isPlainObject,
  isStorableMetadata,
  jsonByteLength,
  jsonDepth,
  MAX_JSON_DEPTH,
  METADATA_RULE,
} from '../shared/json-limits';

export interface ValidEnvelope {
  operation: string;
  items: Record<string, unknown>[];
  options: BatchOptions;
  metadata: Record<string, unknown> | null;
}

type ItemError = { index: number; errors: string[] };

/** Checks a POST /batches body completely before anything is stored. */
@Injectable()
export class BatchEnvelopeValidator {
  constructor(
    private readonly registry: OperationRegistry,
    @Inject(BATCH_SETTINGS) private readonly settings: BatchSettings,
  ) {}

  validate(body: unknown): ValidEnvelope {
    const parsed = createBatchSchema.safeParse(body);
    if (!parsed.success)
      throw AppException.validation('Invalid batch request', { errors: formatIssues(parsed.error.issues) });
    const { operation, items, options = {}, metadata = null } = parsed.data;
    if (items.length > this.settings.maxBatchItems) {
      throw new AppException(
        ErrorCode.BatchTooLarge,
        `A batch holds at most ${this.settings.maxBatchItems} items`,
        {
          maxItems: this.settings.maxBatchItems,
          received: items.length,
        },
      );
    }
    const handler = this.registry.get(operation);
    if (!handler) {
      throw new AppException(ErrorCode.UnknownOperation, `Unknown operation "${operation}"`, {
        operations: this.registry.names(),
      });
    }
    if (metadata !== null && !isStorableMetadata(metadata)) {
      throw AppException.validation('metadata is invalid', { errors: [METADATA_RULE] });
    }
    this.rejectItems(items.map((item, index) => ({ index, errors: shapeErrors(item) })));
    const valid = items as Record<string, unknown>[];
    const allowFailures = options.allowFailures ?? true;
    if (!allowFailures) {
      this.rejectItems(
        valid.map((item, index) => {
          const check = this.registry.check(handler, item);
          return { index, errors: check.ok ? [] : check.errors };
        }),
      );
    }
    return {
      operation,
      items: valid,
      options: {
        chunkSize: options.chunkSize ?? this.settings.chunkSize,
        maxAttempts: options.maxAttempts ?? 3,
        allowFailures,
      },
      metadata,
    };
  }

  private rejectItems(results: ItemError[]): void {
    const failing = results.filter((r) => r.errors.length > 0);
    if (failing.length === 0) return;
    throw AppException.validation(`${failing.length} item(s) are invalid`, {
      invalidCount: failing.length,
      items: failing.slice(0, MAX_REPORTED_ITEM_ERRORS),
    });
  }
}

function shapeErrors(item: unknown): string[] {
  if (!isPlainObject(item)) return ['item must be a JSON object'];
  if (jsonDepth(item) > MAX_JSON_DEPTH) return [`item must be nested at most ${MAX_JSON_DEPTH} levels deep`];
  if (jsonByteLength(item) > MAX_ITEM_BYTES)
    return [`item must be at most ${MAX_ITEM_BYTES} bytes serialized`];
  if (hasUnstorableText(item)) return ['item strings must not contain NUL characters or unpaired surrogates'];
  return [];
}
