import { Body, Controller, Get, Headers, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiMemberRoute, invalidField } from '../platform/http/api-docs';
import { JsonText, UuidParam } from '../platform/http/decorators';
import { Endpoint } from '../platform/http/endpoint';
import { PageQuery } from '../platform/http/pagination';
import { CurrentPrincipal } from '../platform/auth/decorators';
import type { Principal } from '../platform/auth/principal';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { ConversationProblems as P, SEND_PROBLEMS } from './conversations.problems';
import { ConversationsService } from './conversations.service';
import { MessageLimitQuery } from './dto/messages.query';
import { StartThreadDto } from './dto/start-thread.dto';
import { StartThreadResponse, ThreadPageResponse, ThreadViewResponse } from './dto/thread.response';
import { resolveIdempotencyKey } from './idempotency';

export const THREAD_ID = {
  id: { description: 'The thread.', example: '01a21826-4154-7c3e-8a41-5b0d2e6f9c18' },
};

@ApiTags('threads')
@ApiMemberRoute()
@Controller('messages/threads')
export class ThreadsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get()
  @Endpoint({
    ownTransactions: true,
    operation: 'listThreads',
    summary: 'My threads, newest activity first',
    description:
      'Ordered by the time of the newest message you may see, falling back to the thread’s creation time. Cursor-paginated.',
    responses: {
      200: {
        type: ThreadPageResponse,
        description: 'A page of your threads, the most recent activity first.',
      },
    },
    cursorExample:
      'WyIyMDI2LTExLTI2VDE0OjAyOjU1LjEyMDAwMFoiLCIwMWEyMTgyNi00MTU0LTdjM2UtOGE0MS01YjBkMmU2ZjljMTgiXQ',
    problems: [400],
  })
  // One round trip: the tenant entry and the page of threads are one statement.
  // The body is rendered by PostgreSQL (JSON text, sent as it is).
  @JsonText()
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQuery): Promise<string> {
    return this.conversations.listAs(principal, query);
  }

  @Post()
  @Endpoint({
    operation: 'startThread',
    summary: 'Start (or reopen) a direct thread',
    description:
      'Get-or-create the one direct thread between you and `recipientId` in your org: 201 when created, 200 when it existed. A `body` is sent as a message either way. Residents can start threads only with visible members; an unknown, hidden or otherwise unreachable member answers the same 404.',
    responses: {
      201: {
        type: StartThreadResponse,
        description: 'Thread created (with the message, if a body was given).',
      },
      200: {
        type: StartThreadResponse,
        description: 'The thread already existed (a body was sent as a message).',
      },
    },
    body: true,
    bodyExample: {
      type: StartThreadDto,
      summary: 'A thread with a first message (add a fresh clientMessageId to make it retry-safe)',
      value: {
        recipientId: '7e57a000-0000-4000-8000-0000000000b2',
        body: 'Hello, is the gym open on Sunday?',
      },
    },
    idempotencyKey: true,
    problems: [
      invalidField('body', 'body must not be empty'),
      P.startWithYourself,
      P.keyWithoutBody,
      ...SEND_PROBLEMS,
      P.recipientNotFound,
      P.threadLimit,
    ],
  })
  async start(
    @CurrentTenant() tenant: Tenant,
    @Body() body: StartThreadDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StartThreadResponse> {
    const key = resolveIdempotencyKey(body.clientMessageId, idempotencyKey);
    const { created, ...result } = await this.conversations.start(tenant, body, key);
    void reply.status(created ? 201 : 200);
    return result;
  }

  @Get(':id')
  @Endpoint({
    ownTransactions: true,
    operation: 'getThread',
    summary: 'A thread with its latest page of messages',
    description:
      'The thread as in the list, and its latest `limit` messages (default 50) in chronological order; older ones via GET …/messages?before=<messages.nextCursor>. No side effects (reading does not move your read pointer).',
    responses: {
      200: {
        type: ThreadViewResponse,
        description: 'The thread, and its latest page of messages (chronological).',
      },
    },
    params: THREAD_ID,
    problems: [P.threadNotFound],
  })
  // One round trip: the tenant entry, the thread and its page are one statement.
  // The body is rendered by PostgreSQL (JSON text, sent as it is).
  @JsonText()
  view(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id') threadId: string,
    @Query() query: MessageLimitQuery,
  ): Promise<string> {
    return this.conversations.viewAs(principal, threadId, query.limit);
  }
}
