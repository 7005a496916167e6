import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user';
import { CurrentUser } from '../../common/auth/auth.decorators';
import { ApiQueryFrom, ZodQuery } from '../shared/zod-params';
import { type ListPapersQuery, listPapersQuerySchema } from './dto/list-papers.query';
import { PapersService } from './papers.service';

@ApiTags('papers')
@ApiBearerAuth()
@Controller('papers')
export class PapersController {
  constructor(private readonly papers: PapersService) {}

  @Get()
  @ApiOperation({ summary: "The caller's papers, newest first (401 UNAUTHENTICATED, 400 VALIDATION_FAILED)" })
  @ApiQueryFrom(listPapersQuerySchema)
  list(@CurrentUser() user: AuthUser, @ZodQuery(listPapersQuerySchema) query: ListPapersQuery) {
    return this.papers.list(user.userId, query);
  }
}
