import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI description of POST /batches; the body is validated by `createBatchSchema`. */
class BatchOptionsDoc {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) chunkSize?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: 10, default: 3 }) maxAttempts?: number;
  @ApiPropertyOptional({ default: true }) allowFailures?: boolean;
}

export class CreateBatchDoc {
  @ApiProperty({ example: 'papers.import' }) operation: string;
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    example: [{ title: 'On Batches', doi: '10.1000/xyz' }],
  })
  items: object[];
  @ApiPropertyOptional({ type: BatchOptionsDoc }) options?: BatchOptionsDoc;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { source: 'upload-42' } })
  metadata?: object;
}

export class RetryBatchDoc {
  @ApiPropertyOptional({ type: [String] }) itemIds?: string[];
}
