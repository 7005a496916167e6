import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, ModuleAuthGuard } from '../shared/module-auth';
import type { ModuleUser } from '../shared/ports';
import { FeatureFlagsService } from './feature-flags.service';

@ApiTags('feature-flags')
@ApiBearerAuth()
@UseGuards(ModuleAuthGuard)
@Controller('me/features')
export class MeFeaturesController {
  constructor(private readonly flags: FeatureFlagsService) {}

  @Get()
  @ApiOperation({ summary: 'Every flag evaluated for the caller' })
  features(@CurrentUser() user: ModuleUser) {
    return this.flags.evaluateAll(user.userId);
  }
}
