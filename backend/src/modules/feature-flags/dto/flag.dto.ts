import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsBoolean,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { isStorableMetadata, METADATA_RULE } from '../../shared/json-limits';

export const MAX_LIST_IDS = 10_000;

export class PutFlagDto {
  @ApiProperty() @IsBoolean({ message: 'enabled must be a boolean' }) enabled: boolean;

  @ApiProperty({ minimum: 0, maximum: 100, description: 'Percentage, up to 2 decimals' })
  @IsNumber(
    { maxDecimalPlaces: 2, allowNaN: false, allowInfinity: false },
    { message: 'rollout must be a number with at most 2 decimals' },
  )
  @Min(0, { message: 'rollout must be between 0 and 100' })
  @Max(100, { message: 'rollout must be between 0 and 100' })
  rollout: number;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST_IDS)
  @ArrayUnique({ message: 'whitelist must not contain duplicates' })
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(255, { each: true })
  whitelist?: string[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST_IDS)
  @ArrayUnique({ message: 'blacklist must not contain duplicates' })
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(255, { each: true })
  blacklist?: string[];

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) description?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  @ValidateBy({
    name: 'storableMetadata',
    validator: { validate: isStorableMetadata, defaultMessage: () => METADATA_RULE },
  })
  metadata?: Record<string, unknown>;
}

export class PatchFlagDto extends PartialType(PutFlagDto) {}

export class EvaluateQuery {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(255) userId: string;
}
