import { Controller, Get, UseFilters, UseGuards } from '@nestjs/common';
import { ModuleExceptionFilter } from '../shared/errors/module-exception.filter';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../shared/errors/error-code';
import { ApiErrors, ApiOk } from '../shared/openapi';
import { myFeaturesSchema } from './dto/flag.dto';
import { CurrentUser, ModuleAuthGuard } from '../shared/module-auth';
import type { ModuleUser } from '../shared/ports';
import { FeatureFlagsService } from './feature-flags.service';

@ApiTags('feature-flags')
@ApiBearerAuth()
@UseFilters(ModuleExceptionFilter)
@UseGuards(ModuleAuthGuard)
@Controller('me/features')
export class MeFeaturesController {
  constructor(private readonly flags: FeatureFlagsService) {}

  @Get()
  @ApiOperation({ summary: 'Every flag evaluated for the caller' })
  @ApiOk(200, myFeaturesSchema, 'Flag name → evaluation')
  @ApiErrors(ErrorCode.Unauthenticated)
  features(@CurrentUser() user: ModuleUser) {
    return this.flags.evaluateAll(user.userId);
  }
}
