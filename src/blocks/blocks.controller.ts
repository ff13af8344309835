import { Controller, Delete, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import {
  ApiCursorQuery,
  ApiMemberRoute,
  ApiProblems,
  invalidUuid,
  UNEXPECTED_BODY,
} from '../platform/http/api-docs';
import { ApiUuidParam, UuidParam } from '../platform/http/decorators';
import { PageQuery, type Page } from '../platform/http/pagination';
import type { Tenant } from '../platform/tenancy/tenant-context';
import {
  BlockResponse,
  BlockedUserPageResponse,
  type BlockedUserResponse,
} from './dto/block.response';
import { BlocksService } from './blocks.service';

const MEMBER_NOT_FOUND = {
  status: 404,
  detail: 'Member was not found.',
  description: 'Unknown user, or not a member of your org.',
};
const SELF = {
  status: 400,
  slug: 'bad-request',
  title: 'Bad request',
  detail: 'You cannot block yourself.',
  errors: [{ field: 'id', message: 'You cannot block yourself.' }],
  description: 'Blocking yourself.',
};

@ApiTags('blocks')
@ApiMemberRoute()
@Controller('messages/users')
export class BlocksController {
  constructor(private readonly blocks: BlocksService) {}

  @Get('blocked')
  @ApiOperation({
    summary: 'The members I block',
    description:
      'Newest first, with their display info. Your block list is private: nobody else can observe it.',
  })
  @ApiCursorQuery(
    'WyIyMDI2LTExLTI2VDE1OjEyOjQ0LjczMTAwMFoiLCI3ZTU3YTAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwYjIiXQ',
  )
  @ApiOkResponse({
    type: BlockedUserPageResponse,
    description: 'A page of the members you block, the most recently blocked first.',
  })
  @ApiProblems(400)
  list(
    @CurrentTenant() tenant: Tenant,
    @Query() query: PageQuery,
  ): Promise<Page<BlockedUserResponse>> {
    return this.blocks.list(tenant, query);
  }

  @Post(':id/block')
  @ApiUuidParam('id', 'The member to block.', '7e57a000-0000-4000-8000-0000000000b2')
  @ApiOperation({
    summary: 'Block a member',
    description:
      'Their messages to you are accepted for them as usual but withheld from you (for good, even after an unblock); while the block lasts you see none of their messages. They cannot tell: to them you look like a member who turned hidden. Idempotent: a repeated block answers 200 with the original createdAt.',
  })
  @ApiCreatedResponse({ type: BlockResponse, description: 'Blocked.' })
  @ApiOkResponse({ type: BlockResponse, description: 'Already blocked.' })
  @ApiProblems(SELF, invalidUuid('id'), UNEXPECTED_BODY, MEMBER_NOT_FOUND)
  async block(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') userId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BlockResponse> {
    const { created, block } = await this.blocks.block(tenant, userId.toLowerCase());
    void reply.status(created ? 201 : 200);
    return block;
  }

  @Delete(':id/block')
  @HttpCode(204)
  @ApiUuidParam('id', 'The member to unblock.', '7e57a000-0000-4000-8000-0000000000b2')
  @ApiOperation({
    summary: 'Unblock a member',
    description:
      'Their earlier, non-withheld messages reappear; withheld ones stay withheld. 204 whether or not a block existed.',
  })
  @ApiNoContentResponse({ description: 'Not blocked (any more).' })
  @ApiProblems(SELF, invalidUuid('id'), UNEXPECTED_BODY, MEMBER_NOT_FOUND)
  async unblock(@CurrentTenant() tenant: Tenant, @UuidParam('id') userId: string): Promise<void> {
    await this.blocks.unblock(tenant, userId.toLowerCase());
  }
}
