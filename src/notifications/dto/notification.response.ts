import { ApiProperty } from '@nestjs/swagger';
import { MemberSummary } from '../../members/dto/member-summary.response';
import { PageOf } from '../../platform/http/pagination';
import { ApiEnumProperty, namedEnum } from '../../platform/http/named-schemas';
import { NOTIFICATION_TYPES, type NotificationType } from '../notification-types';

/** The OpenAPI schema of a notification's type (NotificationType). */
export const NotificationTypeEnum = namedEnum(
  'NotificationType',
  NOTIFICATION_TYPES,
  'The kind of in-app notification: `thread.started` (someone started a thread with you), `message.received` (new messages, coalesced), `webhook.disabled` (org admins: a webhook endpoint was disabled).',
);

export class NotificationResponse {
  @ApiProperty({ format: 'uuid', example: '01a2182a-9b53-7a19-b2c7-4e8f0d1a6c35' })
  id!: string;

  @ApiEnumProperty(NotificationTypeEnum, {
    example: 'message.received',
    description:
      'thread.started: someone started a thread with you. message.received: new messages (coalesced). webhook.disabled (org admins): a webhook endpoint was disabled.',
  })
  type!: NotificationType;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    example: '01a21826-4154-7c3e-8a41-5b0d2e6f9c18',
    description: 'null for webhook.disabled.',
  })
  threadId!: string | null;

  @ApiProperty({
    type: () => MemberSummary,
    nullable: true,
    description: 'Who started the thread or sent the messages; null for webhook.disabled.',
  })
  actor!: MemberSummary | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    required: false,
    example: '01a218b4-1d64-760c-9340-8ee79091f7cb',
    description:
      'Only on webhook.disabled (an extension of the SPEC shape): the endpoint that was disabled. Absent on the other types.',
  })
  endpointId?: string;

  @ApiProperty({
    type: 'integer',
    example: 3,
    description: 'How many messages this notification stands for; grows while it is unread.',
  })
  count!: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T14:02:55.187Z' })
  createdAt!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2026-11-26T14:09:40.512Z',
    description: 'Last time the count grew.',
  })
  updatedAt!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-11-26T14:12:03.330Z',
    description: 'When you read it; null while unread.',
  })
  readAt!: string | null;
}

export class NotificationPageResponse extends PageOf(
  NotificationResponse,
  'NotificationPageResponse',
) {
  @ApiProperty({
    type: String,
    example:
      'WyIyMDI2LTExLTI2VDE0OjA5OjQwLjUxMjAwMFoiLCIwMWEyMTgyYS05YjUzLTdhMTktYjJjNy00ZThmMGQxYTZjMzUiXQ',
  })
  override nextCursor!: string | null;
}

export class ReadAllResponse {
  @ApiProperty({
    type: 'integer',
    example: 4,
    description: 'How many notifications were marked read.',
  })
  updated!: number;
}
