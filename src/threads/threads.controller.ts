import { Body, Controller, Get, Headers, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  IDEMPOTENCY_HEADER,
  SEND_PROBLEMS,
  THREAD_NOT_FOUND,
} from '../messages/messages.controller';
import { resolveIdempotencyKey } from '../messages/idempotency';
import { MessageLimitQuery } from '../messages/dto/messages.query';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import {
  ApiCursorQuery,
  ApiJsonBody,
  ApiMemberRoute,
  ApiProblems,
  invalidUuid,
} from '../platform/http/api-docs';
import { ApiUuidParam, UuidParam } from '../platform/http/decorators';
import { PageQuery, type Page } from '../platform/http/pagination';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { StartThreadDto } from './dto/start-thread.dto';
import {
  StartThreadResponse,
  ThreadPageResponse,
  ThreadResponse,
  ThreadViewResponse,
} from './dto/thread.response';
import { ThreadsService } from './threads.service';

@ApiTags('threads')
@ApiMemberRoute()
@Controller('messages/threads')
export class ThreadsController {
  constructor(private readonly threads: ThreadsService) {}

  @Get()
  @ApiOperation({
    summary: 'My threads, newest activity first',
    description:
      'Ordered by the time of the newest message you may see, falling back to the thread’s creation time. Cursor-paginated.',
  })
  @ApiCursorQuery(
    'WyIyMDI2LTExLTI2VDE0OjAyOjU1LjEyMDAwMFoiLCIwMWEyMTgyNi00MTU0LTdjM2UtOGE0MS01YjBkMmU2ZjljMTgiXQ',
  )
  @ApiOkResponse({
    type: ThreadPageResponse,
    description: 'A page of your threads, the most recent activity first.',
  })
  @ApiProblems(400)
  list(@CurrentTenant() tenant: Tenant, @Query() query: PageQuery): Promise<Page<ThreadResponse>> {
    return this.threads.list(tenant, query);
  }

  @Post()
  @IDEMPOTENCY_HEADER
  @ApiOperation({
    summary: 'Start (or reopen) a direct thread',
    description:
      'Get-or-create the one direct thread between you and `recipientId` in your org: 201 when created, 200 when it existed. A `body` is sent as a message either way. Residents can start threads only with visible members; an unknown, hidden or otherwise unreachable member answers the same 404.',
  })
  @ApiCreatedResponse({
    type: StartThreadResponse,
    description: 'Thread created (with the message, if a body was given).',
  })
  @ApiOkResponse({
    type: StartThreadResponse,
    description: 'The thread already existed (a body was sent as a message).',
  })
  @SEND_PROBLEMS
  @ApiProblems(
    {
      status: 400,
      slug: 'bad-request',
      title: 'Bad request',
      detail: 'You cannot start a thread with yourself.',
      errors: [{ field: 'recipientId', message: 'You cannot start a thread with yourself.' }],
      description: 'Starting a thread with yourself.',
    },
    {
      status: 404,
      detail: 'Recipient was not found.',
      description:
        'Unknown, inactive, hidden (for residents) or unreachable member: indistinguishable.',
    },
    {
      status: 429,
      key: 'thread-limit',
      detail:
        'You can start at most 30 new threads an hour; retry after the number of seconds in Retry-After.',
      description: 'More than 30 new threads in an hour (RATE_LIMIT_THREADS_PER_HOUR).',
    },
  )
  @ApiJsonBody()
  async start(
    @CurrentTenant() tenant: Tenant,
    @Body() body: StartThreadDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StartThreadResponse> {
    const key = resolveIdempotencyKey(body.clientMessageId, idempotencyKey);
    const { created, ...result } = await this.threads.start(tenant, body, key);
    void reply.status(created ? 201 : 200);
    return result;
  }

  @Get(':id')
  @ApiUuidParam('id', 'The thread.', '01a21826-4154-7c3e-8a41-5b0d2e6f9c18')
  @ApiOperation({
    summary: 'A thread with its latest page of messages',
    description:
      'The thread as in the list, and its latest `limit` messages (default 50) in chronological order; older ones via GET …/messages?before=<messages.nextCursor>. No side effects (reading does not move your read pointer).',
  })
  @ApiOkResponse({
    type: ThreadViewResponse,
    description: 'The thread, and its latest page of messages (chronological).',
  })
  @ApiProblems(invalidUuid('id'), THREAD_NOT_FOUND)
  view(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') threadId: string,
    @Query() query: MessageLimitQuery,
  ): Promise<ThreadViewResponse> {
    return this.threads.view(tenant, threadId, query.limit);
  }
}
