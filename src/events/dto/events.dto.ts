import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { MessageResponse, UnreadCountResponse } from '../../conversations/dto/message.response';
import { ThreadResponse } from '../../conversations/dto/thread.response';
import { NotificationResponse } from '../../notifications/dto/notification.response';
import { IsOmittable } from '../../platform/http/decorators';

export class EventsQuery {
  @ApiPropertyOptional({
    description:
      'A stream ticket (POST /api/v1/events/tickets), for EventSource clients that cannot send an Authorization header. Single use, valid 60 s. Leave out with a bearer token.',
    maxLength: 512,
  })
  @IsOmittable()
  @IsString()
  @MaxLength(512)
  ticket?: string;

  @ApiPropertyOptional({
    description:
      'Resume after this event id, like the Last-Event-ID header (which wins when both are sent): for clients that keep the id across page loads.',
    maxLength: 64,
  })
  @IsOmittable()
  @IsString()
  @MaxLength(64)
  lastEventId?: string;
}

export class EventTicketResponse {
  @ApiProperty({
    description:
      'Pass as `?ticket=` to GET /api/v1/events within `expiresAt`; it opens one stream.',
    example:
      'eyJvIjoiN2U1N2EwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAwIiwidSI6Ijc.4mN1cGq9b8Xq2sT0lJzV3aR5yW7uE1oK6pH8dF0gQcA',
  })
  ticket!: string;

  @ApiProperty({ format: 'date-time', example: '2026-12-06T10:01:00.000Z' })
  expiresAt!: string;
}

/** `event: thread.created`: to the recipient of a new thread, as in their list. */
export class ThreadCreatedEvent {
  @ApiProperty({ type: () => ThreadResponse })
  thread!: ThreadResponse;
}

/** `event: message.created`: the message as this member's GET shows it. */
export class MessageCreatedEvent {
  @ApiProperty({ format: 'uuid', example: '01a21826-4154-7c3e-8a41-5b0d2e6f9c18' })
  threadId!: string;

  @ApiProperty({ type: () => MessageResponse })
  message!: MessageResponse;
}

/** `event: message.deleted`: to whoever could see the message. */
export class MessageDeletedEvent {
  @ApiProperty({ format: 'uuid', example: '01a21826-4154-7c3e-8a41-5b0d2e6f9c18' })
  threadId!: string;

  @ApiProperty({ format: 'uuid', example: '01a2182a-9b10-7f2d-9e84-3c6a1b5d7e02' })
  messageId!: string;
}

/** `event: message.read`: a read pointer moved (the reader's other streams; receipts rules). */
export class MessageReadEvent {
  @ApiProperty({ format: 'uuid', example: '01a21826-4154-7c3e-8a41-5b0d2e6f9c18' })
  threadId!: string;

  @ApiProperty({ format: 'uuid', example: '7e57a000-0000-4000-8000-0000000000b2' })
  readerId!: string;

  @ApiProperty({
    format: 'uuid',
    example: '01a2182a-9b10-7f2d-9e84-3c6a1b5d7e02',
    description: 'The newest message the reader read that the receiver of this event can see.',
  })
  lastReadMessageId!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T14:03:11.482Z' })
  readAt!: string;
}

/** `event: notification.created`: as in GET /notifications (again when its count grows). */
export class NotificationCreatedEvent {
  @ApiProperty({ type: () => NotificationResponse })
  notification!: NotificationResponse;
}

/** `event: unread.changed`: the member's unread count, as GET …/unread-count. */
export class UnreadChangedEvent extends UnreadCountResponse {}

/** `event: reset`: the resume point is unknown or too old: refetch, then go on with the stream. */
export class ResetEvent {}

/** The stream's event names and the schema of each `data`. */
export const EVENT_SCHEMAS = {
  'thread.created': ThreadCreatedEvent,
  'message.created': MessageCreatedEvent,
  'message.deleted': MessageDeletedEvent,
  'message.read': MessageReadEvent,
  'unread.changed': UnreadChangedEvent,
  'notification.created': NotificationCreatedEvent,
  reset: ResetEvent,
};
