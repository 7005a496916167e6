import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { AppException } from '../shared/errors/app-exception';
import { ErrorCode } from '../shared/errors/error-code';
import { BATCH_SETTINGS, type BatchSettings } from './batch.options';
import { formatIssues } from '../shared/zod-params';
import { OperationRegistry } from './operations/operation.registry';
import type { BatchOptions } from './batch.types';
import {
  appendItemsSchema,
  createBatchSchema,
  MAX_ITEM_BYTES,
  MAX_REPORTED_ITEM_ERRORS,
} from './dto/create-batch.schema';
import {
  hasUnstorableJsonText,
  isPlainObject,
  isStorableMetadata,
  jsonDepth,
  MAX_JSON_DEPTH,
  METADATA_RULE,
} from '../shared/json-limits';

export interface ValidEnvelope {
  operation: string;
  items: Record<string, unknown>[];
  /** Each item as JSON, serialized once by the checks (the store sends these). */
  itemsJson: string[];
  options: BatchOptions;
  metadata: Record<string, unknown> | null;
}

type ItemError = { index: number; errors: readonly string[] };

/** Checks a POST /batches body completely before anything is stored. */
@Injectable()
export class BatchEnvelopeValidator {
  constructor(
    private readonly registry: OperationRegistry,
    @Inject(BATCH_SETTINGS) private readonly settings: BatchSettings,
  ) {}

  async validate(body: unknown): Promise<ValidEnvelope> {
    const { envelope, items } = parseWithItems(createBatchSchema, body, 'Invalid batch request');
    const { operation, options = {}, metadata = null } = envelope;
    this.checkSize(items.length);
    const handler = this.registry.get(operation);
    if (!handler) {
      throw new AppException(ErrorCode.UnknownOperation, `Unknown operation "${operation}"`, {
        operations: this.registry.names(),
      });
    }
    if (metadata !== null && !isStorableMetadata(metadata)) {
      throw AppException.validation('metadata is invalid', { errors: [METADATA_RULE] });
    }
    if (options.keepOpenSeconds !== undefined && options.keepOpenSeconds > this.settings.maxOpenSeconds)
      throw AppException.validation('Invalid batch request', {
        errors: [`options.keepOpenSeconds must be at most ${this.settings.maxOpenSeconds}`],
      });
    const allowFailures = options.allowFailures ?? true;
    const { valid, itemsJson } = await this.checkItems(items, operation, allowFailures);
    return {
      operation,
      items: valid,
      itemsJson,
      options: {
        chunkSize: options.chunkSize ?? this.settings.chunkSize,
        maxAttempts: options.maxAttempts ?? 3,
        allowFailures,
        ...(options.keepOpenSeconds !== undefined ? { keepOpenSeconds: options.keepOpenSeconds } : {}),
      },
      metadata,
    };
  }

  /**
   * Checks a POST /batches/:id/items body for a batch of `operation` that holds
   * `itemCount` items, as creation checks its items; returns the items as JSON.
   */
  async validateAppend(
    body: unknown,
    operation: string,
    allowFailures: boolean,
    itemCount: number,
  ): Promise<string[]> {
    const { items } = parseWithItems(appendItemsSchema, body, 'Invalid items');
    this.checkSize(itemCount + items.length, itemCount);
    return (await this.checkItems(items, operation, allowFailures)).itemsJson;
  }

  /** The most items a batch may hold (MAX_BATCH_ITEMS), appended ones included. */
  get maxItems(): number {
    return this.settings.maxBatchItems;
  }

  /** 413 BATCH_TOO_LARGE past `maxBatchItems` (a batch's items, appended ones included). */
  checkSize(total: number, stored = 0): void {
    if (total <= this.settings.maxBatchItems) return;
    throw new AppException(
      ErrorCode.BatchTooLarge,
      `A batch holds at most ${this.settings.maxBatchItems} items`,
      {
        maxItems: this.settings.maxBatchItems,
        received: total - stored,
        ...(stored > 0 ? { stored } : {}),
      },
    );
  }

  /**
   * Every item's shape, then (when failures are not allowed) the operation's schema; the
   * items as JSON. Yields to the event loop every CHECK_SLICE items: a 100k-item POST held
   * the loop for ~110 ms in one piece (measured on PostgreSQL with monitorEventLoopDelay),
   * and every other request of the process waited behind it.
   */
  private async checkItems(
    items: unknown[],
    operation: string,
    allowFailures: boolean,
  ): Promise<{ valid: Record<string, unknown>[]; itemsJson: string[] }> {
    const itemsJson: string[] = new Array<string>(items.length);
    const failing: ItemError[] = [];
    await inSlices(items.length, (index) => {
      const errors = shapeErrors(items[index], (json) => (itemsJson[index] = json));
      if (errors.length > 0) failing.push({ index, errors });
    });
    this.rejectItems(failing);
    const valid = items as Record<string, unknown>[];
    const handler = this.registry.get(operation);
    if (!allowFailures && handler) {
      await inSlices(valid.length, (index) => {
        const check = this.registry.check(handler, valid[index]);
        if (!check.ok) failing.push({ index, errors: check.errors });
      });
      this.rejectItems(failing);
    }
    return { valid, itemsJson };
  }

  /** 400 VALIDATION_FAILED listing the first failing items (`failing` holds only items with errors). */
  private rejectItems(failing: ItemError[]): void {
    if (failing.length === 0) return;
    throw AppException.validation(`${failing.length} item(s) are invalid`, {
      invalidCount: failing.length,
      items: failing.slice(0, MAX_REPORTED_ITEM_ERRORS),
    });
  }
}

/** Items checked between two turns of the event loop (see checkItems). */
const CHECK_SLICE = 5_000;

/** Runs `each(0 … count-1)`, letting other work of the event loop in every CHECK_SLICE indexes. */
async function inSlices(count: number, each: (index: number) => void): Promise<void> {
  for (let from = 0; from < count; from += CHECK_SLICE) {
    if (from > 0) await new Promise((resolve) => setImmediate(resolve));
    for (let index = from; index < Math.min(count, from + CHECK_SLICE); index++) each(index);
  }
}

/**
 * Parses a body whose `items` is a non-empty array of anything (checked one by one
 * afterwards, with their indexes): the schema sees `items` cut to its first element, which
 * answers for all, so zod does not walk (and copy) every item of a large batch. Returns the
 * parsed envelope and the body's own items; 400 VALIDATION_FAILED with `message` otherwise.
 */
function parseWithItems<T>(
  schema: z.ZodType<T>,
  body: unknown,
  message: string,
): { envelope: T; items: unknown[] } {
  const many = isPlainObject(body) && Array.isArray(body.items) && body.items.length > 1;
  const parsed = schema.safeParse(many ? { ...body, items: (body.items as unknown[]).slice(0, 1) } : body);
  if (!parsed.success) throw AppException.validation(message, { errors: formatIssues(parsed.error.issues) });
  return { envelope: parsed.data, items: (body as { items: unknown[] }).items };
}

/** Shared by every item without errors (never modified). */
const NO_ERRORS: readonly string[] = [];

/** The item's shape errors; hands its JSON to `serialized` (one JSON.stringify per item, reused by the store). */
function shapeErrors(item: unknown, serialized: (json: string) => void): readonly string[] {
  if (!isPlainObject(item)) return ['item must be a JSON object'];
  // Depth first: nothing serializes a value nested deeper than the limit.
  if (jsonDepth(item) > MAX_JSON_DEPTH) return [`item must be nested at most ${MAX_JSON_DEPTH} levels deep`];
  const json = JSON.stringify(item);
  if (Buffer.byteLength(json, 'utf8') > MAX_ITEM_BYTES)
    return [`item must be at most ${MAX_ITEM_BYTES} bytes serialized`];
  if (hasUnstorableJsonText(json))
    return ['item strings must not contain NUL characters or unpaired surrogates'];
  serialized(json);
  return NO_ERRORS;
}
