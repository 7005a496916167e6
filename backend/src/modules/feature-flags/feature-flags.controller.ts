import { Controller, Delete, Get, HttpCode, Param, Patch, Put, UseFilters, UseGuards } from '@nestjs/common';
import { ModuleExceptionFilter } from '../shared/errors/module-exception.filter';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../shared/errors/error-code';
import { ApiErrors, ApiOk } from '../shared/openapi';
import { AdminOnly, CurrentUser, ModuleAuthGuard } from '../shared/module-auth';
import type { ModuleUser } from '../shared/ports';
import { ApiBodyFrom, ApiQueryFrom, ZodBody, ZodQuery } from '../shared/zod-params';
import {
  type EvaluateQuery,
  evaluateQuerySchema,
  type PatchFlagDto,
  patchFlagSchema,
  type PutFlagDto,
  putFlagSchema,
  auditTrailSchema,
  evaluationSchema,
  flagListSchema,
  flagViewSchema,
} from './dto/flag.dto';
import { FeatureFlagsService } from './feature-flags.service';

@ApiTags('feature-flags')
@ApiBearerAuth()
@AdminOnly()
@ApiErrors(ErrorCode.Unauthenticated, ErrorCode.Forbidden)
@UseFilters(ModuleExceptionFilter)
@UseGuards(ModuleAuthGuard)
@Controller('feature-flags')
export class FeatureFlagsController {
  constructor(private readonly flags: FeatureFlagsService) {}

  @Get()
  @ApiOperation({ summary: 'All flags (admin; 403 FORBIDDEN otherwise)' })
  @ApiOk(200, flagListSchema, 'Every flag')
  async list() {
    return { data: await this.flags.list() };
  }

  @Get(':name')
  @ApiOperation({ summary: 'One flag (admin; 404 NOT_FOUND)' })
  @ApiOk(200, flagViewSchema, 'The flag')
  @ApiErrors(ErrorCode.NotFound)
  get(@Param('name') name: string) {
    return this.flags.get(name);
  }

  @Put(':name')
  @ApiOperation({ summary: 'Create or replace a flag, audited (admin; 400 VALIDATION_FAILED)' })
  @ApiOk(200, flagViewSchema, 'The stored flag')
  @ApiErrors(ErrorCode.ValidationFailed)
  @ApiBodyFrom(putFlagSchema)
  put(
    @CurrentUser() user: ModuleUser,
    @Param('name') name: string,
    @ZodBody(putFlagSchema) body: PutFlagDto,
  ) {
    return this.flags.put(user, name, body);
  }

  @ApiOk(200, flagViewSchema, 'The changed flag')
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  @Patch(':name')
  @ApiOperation({
    summary: 'Change some fields of a flag, audited (admin; 404 NOT_FOUND, 400 VALIDATION_FAILED)',
  })
  @ApiBodyFrom(patchFlagSchema)
  patch(
    @CurrentUser() user: ModuleUser,
    @Param('name') name: string,
    @ZodBody(patchFlagSchema) body: PatchFlagDto,
  ) {
    return this.flags.patch(user, name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a flag, audited (admin; 404 NOT_FOUND)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(ErrorCode.NotFound)
  remove(@CurrentUser() user: ModuleUser, @Param('name') name: string) {
    return this.flags.remove(user, name);
  }

  @Get(':name/audit')
  @ApiOperation({ summary: 'Audit trail of a flag, newest first (admin)' })
  @ApiOk(200, auditTrailSchema, 'Newest first')
  audit(@Param('name') name: string) {
    return this.flags.audit(name);
  }

  @Get(':name/evaluate')
  @ApiOperation({ summary: 'Explain the evaluation for a user: enabled, reason, bucket (admin)' })
  @ApiOk(200, evaluationSchema, 'The evaluation')
  @ApiErrors(ErrorCode.ValidationFailed)
  @ApiQueryFrom(evaluateQuerySchema)
  evaluate(@Param('name') name: string, @ZodQuery(evaluateQuerySchema) query: EvaluateQuery) {
    return this.flags.evaluate(name, query.userId);
  }
}
