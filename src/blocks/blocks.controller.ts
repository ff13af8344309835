import { Controller, Delete, Get, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiMemberRoute } from '../platform/http/api-docs';
import { UuidParam } from '../platform/http/decorators';
import { Endpoint } from '../platform/http/endpoint';
import { PageQuery, type Page } from '../platform/http/pagination';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { BlockProblems as P } from './blocks.problems';
import { BlocksService } from './blocks.service';
import {
  BlockResponse,
  BlockedUserPageResponse,
  type BlockedUserResponse,
} from './dto/block.response';

const MEMBER_ID = (description: string) => ({
  id: { description, example: '7e57a000-0000-4000-8000-0000000000b2' },
});

@ApiTags('blocks')
@ApiMemberRoute()
@Controller('messages/users')
export class BlocksController {
  constructor(private readonly blocks: BlocksService) {}

  @Get('blocked')
  @Endpoint({
    operation: 'listBlockedUsers',
    summary: 'The members I block',
    description:
      'Newest first, with their display info. Your block list is private: nobody else can observe it.',
    responses: {
      200: {
        type: BlockedUserPageResponse,
        description: 'A page of the members you block, the most recently blocked first.',
      },
    },
    cursorExample:
      'WyIyMDI2LTExLTI2VDE1OjEyOjQ0LjczMTAwMFoiLCI3ZTU3YTAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwYjIiXQ',
    problems: [400],
  })
  list(
    @CurrentTenant() tenant: Tenant,
    @Query() query: PageQuery,
  ): Promise<Page<BlockedUserResponse>> {
    return this.blocks.list(tenant, query);
  }

  @Post(':id/block')
  @Endpoint({
    operation: 'blockUser',
    summary: 'Block a member',
    description:
      'Their messages to you are accepted for them as usual but withheld from you (for good, even after an unblock); while the block lasts you see none of their messages. They cannot tell: to them you look like a member who turned hidden. You can block anyone you share a thread with and anyone in your directory. Idempotent: a repeated block answers 200 with the original createdAt.',
    responses: {
      201: { type: BlockResponse, description: 'Blocked.' },
      200: { type: BlockResponse, description: 'Already blocked.' },
    },
    params: MEMBER_ID('The member to block.'),
    body: false,
    problems: [P.blockYourself, P.memberNotFound],
  })
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
  @Endpoint({
    operation: 'unblockUser',
    summary: 'Unblock a member',
    description:
      'Their earlier, non-withheld messages reappear; withheld ones stay withheld. 204 whether or not a block existed.',
    responses: { 204: { description: 'Not blocked (any more).' } },
    params: MEMBER_ID('The member to unblock.'),
    body: false,
    problems: [P.blockYourself, P.memberNotFound],
  })
  async unblock(@CurrentTenant() tenant: Tenant, @UuidParam('id') userId: string): Promise<void> {
    await this.blocks.unblock(tenant, userId.toLowerCase());
  }
}
