import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ErrorCode } from '../shared/errors/error-code';
import { ApiErrors, ApiOk, pageOf } from '../shared/openapi';
import type { AuthUser } from '../../common/auth/auth-user';
import { CurrentUser } from '../../common/auth/auth.decorators';
import { ApiQueryFrom, ZodQuery } from '../shared/zod-params';
import { type ListPapersQuery, listPapersQuerySchema } from './dto/list-papers.query';
import { paperViewSchema } from './dto/paper.view';
import { PapersService } from './papers.service';

const paperWithTextSchema = paperViewSchema.extend({ fullText: z.string().nullable() });
const papersPageSchema = pageOf(paperViewSchema).extend({ total: z.number().int() });

@ApiTags('papers')
@ApiBearerAuth()
@Controller('papers')
export class PapersController {
  constructor(private readonly papers: PapersService) {}

  @Get()
  @ApiOperation({ summary: "The caller's papers, newest first (401 UNAUTHENTICATED, 400 VALIDATION_FAILED)" })
  @ApiQueryFrom(listPapersQuerySchema)
  @ApiOk(200, papersPageSchema, 'The page, newest first, with the total')
  @ApiErrors(ErrorCode.Unauthenticated, ErrorCode.ValidationFailed)
  list(@CurrentUser() user: AuthUser, @ZodQuery(listPapersQuerySchema) query: ListPapersQuery) {
    return this.papers.list(user.userId, query);
  }

  @Get(':id')
  @ApiOperation({ summary: "One of the caller's papers with its full text" })
  @ApiOk(200, paperWithTextSchema, 'The paper')
  @ApiErrors(ErrorCode.Unauthenticated, ErrorCode.NotFound)
  get(@CurrentUser() user: AuthUser, @Param('id') id: string) {
    return this.papers.get(user.userId, id);
  }
}
