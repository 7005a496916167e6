import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { BatchStatus, ItemStatus } from '../batch-status';

class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be between 1 and 100' })
  @Max(100, { message: 'limit must be between 1 and 100' })
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export class ListBatchesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: BatchStatus })
  @IsOptional()
  @IsIn(Object.values(BatchStatus), {
    message: `status must be one of ${Object.values(BatchStatus).join(', ')}`,
  })
  status?: BatchStatus;

  @ApiPropertyOptional({ description: 'Admins only: list this user’s batches' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  userId?: string;
}

export class ListItemsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ItemStatus })
  @IsOptional()
  @IsIn(Object.values(ItemStatus), {
    message: `status must be one of ${Object.values(ItemStatus).join(', ')}`,
  })
  status?: ItemStatus;
}
