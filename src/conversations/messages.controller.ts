import { Body, Controller, Delete, Get, Headers, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal } from '../platform/auth/decorators';
import type { Principal } from '../platform/auth/principal';
import { ApiMemberRoute, invalidField } from '../platform/http/api-docs';
import { JsonText, UuidParam } from '../platform/http/decorators';
import { Endpoint } from '../platform/http/endpoint';
import { OutboxSignals } from '../platform/queues/outbox-signals';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { ConversationProblems as P, SEND_PROBLEMS } from './conversations.problems';
import { ConversationsService } from './conversations.service';
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
import { THREAD_ID } from './threads.controller';

@ApiTags('messages')
@ApiMemberRoute()
@Controller('messages')
export class MessagesController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly signals: OutboxSignals,
  ) {}

  @Get('threads/:id/messages')
  @Endpoint({
    ownTransactions: true,
    operation: 'listMessages',
    summary: 'A chronological page of a thread’s messages',
    description:
      'No cursor: the latest `limit` messages. `before=<messageId>`: the newest `limit` before it. `after=<messageId>`: the oldest `limit` after it (polling). Every page is in ascending `seq` order; `nextCursor` is the id to pass as `before` for older messages (null when there are none, and for an empty page). Reading has no side effects.',
    responses: {
      200: {
        type: MessagePageResponse,
        description: 'Up to `limit` messages in ascending `seq` order, as you may see them.',
      },
    },
    params: THREAD_ID,
    problems: [400, P.beforeAndAfter, P.beforeNotVisible, P.afterNotVisible, P.threadNotFound],
  })
  // One round trip: the tenant entry, the cursor and the page are one statement.
  // The body is rendered by PostgreSQL (JSON text, sent as it is).
  @JsonText()
  page(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id') threadId: string,
    @Query() query: MessagesQuery,
  ): Promise<string> {
    return this.conversations.messagesAs(principal, threadId, query);
  }

  @Post('threads/:id/messages')
  @Endpoint({
    ownTransactions: true,
    operation: 'sendMessage',
    summary: 'Send a message',
    description:
      'The body is trimmed and stored as sent. With `clientMessageId` (or `Idempotency-Key`), a repeat with the same thread and body returns the message as it is now (200) and creates nothing.',
    responses: {
      201: { type: MessageResponse, description: 'Sent.' },
      200: {
        type: MessageResponse,
        description: 'Idempotent repeat: the original message as it is now.',
      },
    },
    params: THREAD_ID,
    body: true,
    bodyExample: {
      type: SendMessageDto,
      summary: 'A message (add a fresh clientMessageId to make it retry-safe)',
      value: { body: 'Hi! The parcel is at the front desk.' },
    },
    idempotencyKey: true,
    problems: [invalidField('body', 'body must not be empty'), ...SEND_PROBLEMS, P.threadNotFound],
  })
  // One round trip: the tenant entry and the send are one statement (ConversationsService.sendAs).
  async send(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id') threadId: string,
    @Body() body: SendMessageDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MessageResponse> {
    const key = resolveIdempotencyKey(body.clientMessageId, idempotencyKey);
    const { created, message } = await this.conversations.sendAs(principal, threadId, {
      body: body.body,
      key,
    });
    // The send wrote outbox events: wake their consumers now rather than at their poll.
    this.signals.committed();
    void reply.status(created ? 201 : 200);
    return message;
  }

  @Delete('threads/:id/messages/:messageId')
  @Endpoint({
    operation: 'deleteMessage',
    summary: 'Delete one of your messages',
    description:
      'Soft delete: the message stays as a tombstone (`deleted: true`, `body: null`, `deletedAt`) everywhere. Repeating it answers 204.',
    responses: { 204: { description: 'Deleted (or already deleted).' } },
    params: {
      ...THREAD_ID,
      messageId: { description: 'The message.', example: '01a2182a-9b10-7f2d-9e84-3c6a1b5d7e02' },
    },
    body: false,
    problems: [P.notSender, P.messageNotFound],
  })
  async delete(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') threadId: string,
    @UuidParam('messageId') messageId: string,
  ): Promise<void> {
    await this.conversations.delete(tenant, threadId, messageId);
  }

  @Post('threads/:id/read')
  @Endpoint({
    operation: 'markRead',
    summary: 'Move your read pointer forward',
    description:
      'Up to `upToMessageId` (default: the latest message you can see). The pointer never moves back: an older target answers 200 with the pointer unchanged. Also marks this thread’s notifications read.',
    responses: {
      200: {
        type: ReadResponse,
        description:
          'Your read pointer in this thread, after the move (unchanged if it was ahead).',
      },
    },
    params: THREAD_ID,
    body: true,
    problems: [invalidField('upToMessageId', 'upToMessageId must be a UUID'), P.messageNotFound],
  })
  read(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') threadId: string,
    @Body() body: MarkReadDto = {},
  ): Promise<ReadResponse> {
    return this.conversations.markRead(tenant, threadId, body?.upToMessageId ?? null);
  }

  @Get('unread-count')
  @Endpoint({
    ownTransactions: true,
    operation: 'getUnreadCount',
    summary: 'My unread messages',
    description:
      'Other people’s messages past your read pointers that you may see and that are not deleted.',
    responses: {
      200: {
        type: UnreadCountResponse,
        description: 'Your unread messages, and how many threads hold them.',
      },
    },
  })
  // One round trip: the tenant entry and the count are one statement.
  unreadCount(@CurrentPrincipal() principal: Principal): Promise<UnreadCountResponse> {
    return this.conversations.unreadCountAs(principal);
  }
}
