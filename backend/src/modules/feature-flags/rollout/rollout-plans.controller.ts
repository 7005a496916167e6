import { Controller, Delete, Get, HttpCode, Param, Post, Put, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../shared/errors/error-code';
import { ModuleExceptionFilter } from '../../shared/errors/module-exception.filter';
import { AdminOnly, CurrentUser, ModuleAuthGuard } from '../../shared/module-auth';
import { ApiErrors, ApiOk } from '../../shared/openapi';
import type { ModuleUser } from '../../shared/ports';
import { ApiBodyFrom, ZodBody } from '../../shared/zod-params';
import { type RolloutPlanBody, rolloutPlanBodySchema, rolloutPlanViewSchema } from './rollout-plan';
import { RolloutPlansService } from './rollout-plans.service';

/** Guarded rollout plans of a flag (admin): the plan moves the flag by itself and rolls it back on a breach. */
@ApiTags('feature-flags')
@ApiBearerAuth()
@AdminOnly()
@ApiErrors(ErrorCode.Unauthenticated, ErrorCode.Forbidden, ErrorCode.NotFound)
@UseFilters(ModuleExceptionFilter)
@UseGuards(ModuleAuthGuard)
@Controller('feature-flags/:name/rollout-plan')
export class RolloutPlansController {
  constructor(private readonly plans: RolloutPlansService) {}

  @Put()
  @ApiOperation({
    summary:
      'Create or replace the flag’s rollout plan; the flag goes to its first step at once (admin; 400 VALIDATION_FAILED, 404 for a missing flag)',
  })
  @ApiOk(200, rolloutPlanViewSchema, 'The plan, with each guard’s current value')
  @ApiErrors(ErrorCode.ValidationFailed)
  @ApiBodyFrom(rolloutPlanBodySchema)
  put(
    @CurrentUser() user: ModuleUser,
    @Param('name') name: string,
    @ZodBody(rolloutPlanBodySchema) body: RolloutPlanBody,
  ) {
    return this.plans.put(user, name, body);
  }

  @Get()
  @ApiOperation({
    summary: 'The plan, its step, each guard’s current value and samples, and the history (admin)',
  })
  @ApiOk(200, rolloutPlanViewSchema, 'The plan')
  get(@Param('name') name: string) {
    return this.plans.get(name);
  }

  @Post('pause')
  @HttpCode(202)
  @ApiOperation({ summary: 'Pause an active plan (admin; 409 INVALID_STATE otherwise)' })
  @ApiOk(202, rolloutPlanViewSchema, 'The plan')
  @ApiErrors(ErrorCode.InvalidState)
  pause(@CurrentUser() user: ModuleUser, @Param('name') name: string) {
    return this.plans.pause(user, name);
  }

  @Post('resume')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Resume a paused or halted plan at its current step, its time counted from now (admin; 409 otherwise)',
  })
  @ApiOk(202, rolloutPlanViewSchema, 'The plan')
  @ApiErrors(ErrorCode.InvalidState)
  resume(@CurrentUser() user: ModuleUser, @Param('name') name: string) {
    return this.plans.resume(user, name);
  }

  @Post('abort')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Stop the plan for good; the flag stays where it is (admin; 409 when already over)',
  })
  @ApiOk(202, rolloutPlanViewSchema, 'The plan')
  @ApiErrors(ErrorCode.InvalidState)
  abort(@CurrentUser() user: ModuleUser, @Param('name') name: string) {
    return this.plans.abort(user, name);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the plan; the flag stays where it is (admin)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  remove(@CurrentUser() user: ModuleUser, @Param('name') name: string) {
    return this.plans.remove(user, name);
  }
}
