import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import {
  ApiJsonBody,
  ApiMemberRoute,
  ApiProblems,
  invalidField,
  invalidUuid,
  UNEXPECTED_BODY,
} from '../platform/http/api-docs';
import { ApiUuidParam, UuidParam } from '../platform/http/decorators';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { MarkReadDto } from './dto/mark-read.dto';
import {
  MessagePageResponse,
  MessageResponse,
  ReadResponse,
  UnreadCountResponse,
} from './dto/message.response';
import { MessagesQuery } from './dto/messages.query';
import { SendMessageDto } from './dto/send-message.dto';
import { resolveIdempotencyKey } from './idempotency';
import { MessagesService } from './messages.service';

export const THREAD_NOT_FOUND = {
  status: 404,
  detail: 'Thread was not found.',
  description: 'Unknown thread, or one you do not take part in: the two are indistinguishable.',
};

export const IDEMPOTENCY_HEADER = ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description:
    'Same key space as `clientMessageId` (1–64 printable ASCII characters); if both are given they must match.',
  example: 'a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
});

export const SEND_PROBLEMS = ApiProblems(
  invalidField('body', 'body must not be empty'),
  {
    status: 400,
    key: 'idempotency-key-mismatch',
    slug: 'bad-request',
    title: 'Bad request',
    detail:
      'clientMessageId and the Idempotency-Key header differ; send one, or the same value in both.',
    errors: [
      {
        field: 'clientMessageId',
        message:
          'clientMessageId and the Idempotency-Key header differ; send one, or the same value in both.',
      },
    ],
    description: 'clientMessageId and Idempotency-Key differ, or the header is malformed.',
  },
  {
    status: 409,
    slug: 'blocked-by-you',
    title: 'Blocked by you',
    detail: 'You block this member: unblock them to send.',
    description: 'You block the other participant.',
  },
  {
    status: 409,
    slug: 'recipient-inactive',
    title: 'Recipient inactive',
    detail: 'The other participant’s membership is inactive; they cannot receive messages.',
    description: 'The other participant was deactivated.',
  },
  {
    status: 409,
    slug: 'request-in-progress',
    title: 'Request in progress',
    detail: 'A request with this idempotency key is still being processed; retry shortly.',
    description: 'A request with the same key is still in flight.',
  },
  {
    status: 422,
    slug: 'idempotency-key-reused',
    title: 'Idempotency key reused',
    detail: 'This idempotency key was already used for a different message or thread.',
    description: 'The key was used with another body or thread.',
  },
);

/** A thread path parameter that is not a UUID. */
const INVALID_THREAD_ID = invalidUuid('id');

@ApiTags('messages')
@ApiMemberRoute()
@Controller('messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Get('threads/:id/messages')
  @ApiUuidParam('id', 'The thread.', '01a21826-4154-7c3e-8a41-5b0d2e6f9c18')
  @ApiOperation({
    summary: 'A chronological page of a thread’s messages',
    description:
      'No cursor: the latest `limit` messages. `before=<messageId>`: the newest `limit` before it. `after=<messageId>`: the oldest `limit` after it (polling). Every page is in ascending `seq` order; `nextCursor` is the id to pass as `before` for older messages (null when there are none, and for an empty page). Reading has no side effects.',
  })
  @ApiOkResponse({
    type: MessagePageResponse,
    description: 'Up to `limit` messages in ascending `seq` order, as you may see them.',
  })
  @ApiProblems(
    400,
    INVALID_THREAD_ID,
    {
      status: 400,
      key: 'before-and-after',
      slug: 'bad-request',
      title: 'Bad request',
      detail: 'Pass either before or after, not both.',
      errors: [{ field: 'before', message: 'Pass either before or after, not both.' }],
      description: 'Both before and after, or a cursor message you cannot see in this thread.',
    },
    THREAD_NOT_FOUND,
  )
  async page(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') threadId: string,
    @Query() query: MessagesQuery,
  ): Promise<MessagePageResponse> {
    const ctx = await this.messages.context(tenant, threadId);
    return this.messages.page(ctx, query);
  }

  @Post('threads/:id/messages')
  @ApiUuidParam('id', 'The thread.', '01a21826-4154-7c3e-8a41-5b0d2e6f9c18')
  @IDEMPOTENCY_HEADER
  @ApiOperation({
    summary: 'Send a message',
    description:
      'The body is trimmed and stored as sent. With `clientMessageId` (or `Idempotency-Key`), a repeat with the same thread and body returns the message as it is now (200) and creates nothing.',
  })
  @ApiCreatedResponse({ type: MessageResponse, description: 'Sent.' })
  @ApiOkResponse({
    type: MessageResponse,
    description: 'Idempotent repeat: the original message as it is now.',
  })
  @SEND_PROBLEMS
  @ApiProblems(INVALID_THREAD_ID, THREAD_NOT_FOUND)
  @ApiJsonBody()
  async send(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') threadId: string,
    @Body() body: SendMessageDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MessageResponse> {
    const key = resolveIdempotencyKey(body.clientMessageId, idempotencyKey);
    const { created, message } = await this.messages.send(tenant, threadId, {
      body: body.body,
      key,
    });
    void reply.status(created ? 201 : 200);
    return message;
  }

  @Delete('threads/:id/messages/:messageId')
  @HttpCode(204)
  @ApiUuidParam('id', 'The thread.', '01a21826-4154-7c3e-8a41-5b0d2e6f9c18')
  @ApiUuidParam('messageId', 'The message.', '01a2182a-9b10-7f2d-9e84-3c6a1b5d7e02')
  @ApiOperation({
    summary: 'Delete one of your messages',
    description:
      'Soft delete: the message stays as a tombstone (`deleted: true`, `body: null`, `deletedAt`) everywhere. Repeating it answers 204.',
  })
  @ApiNoContentResponse({ description: 'Deleted (or already deleted).' })
  @ApiProblems(
    INVALID_THREAD_ID,
    invalidUuid('messageId'),
    UNEXPECTED_BODY,
    {
      status: 403,
      slug: 'not-message-sender',
      title: 'Not the sender',
      detail: 'Only the sender can delete a message.',
      description: 'A message you can see but did not send.',
    },
    {
      status: 404,
      detail: 'Message was not found.',
      description: 'Unknown message, or one you cannot see.',
    },
  )
  async delete(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') threadId: string,
    @UuidParam('messageId') messageId: string,
  ): Promise<void> {
    await this.messages.delete(tenant, threadId, messageId);
  }

  @Post('threads/:id/read')
  @HttpCode(200)
  @ApiUuidParam('id', 'The thread.', '01a21826-4154-7c3e-8a41-5b0d2e6f9c18')
  @ApiOperation({
    summary: 'Move your read pointer forward',
    description:
      'Up to `upToMessageId` (default: the latest message you can see). The pointer never moves back: an older target answers 200 with the pointer unchanged. Also marks this thread’s notifications read.',
  })
  @ApiOkResponse({
    type: ReadResponse,
    description: 'Your read pointer in this thread, after the move (unchanged if it was ahead).',
  })
  @ApiJsonBody()
  @ApiProblems(INVALID_THREAD_ID, invalidField('upToMessageId', 'upToMessageId must be a UUID'), {
    status: 404,
    detail: 'Message was not found.',
    description: 'Unknown thread or message, or one you cannot see.',
  })
  async read(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') threadId: string,
    @Body() body: MarkReadDto = {},
  ): Promise<ReadResponse> {
    return this.messages.markRead(tenant, threadId, body?.upToMessageId ?? null);
  }

  @Get('unread-count')
  @ApiOperation({
    summary: 'My unread messages',
    description:
      'Other people’s messages past your read pointers that you may see and that are not deleted.',
  })
  @ApiOkResponse({
    type: UnreadCountResponse,
    description: 'Your unread messages, and how many threads hold them.',
  })
  unreadCount(@CurrentTenant() tenant: Tenant): Promise<UnreadCountResponse> {
    return this.messages.unreadCount(tenant);
  }
}
