import { ApiProperty } from '@nestjs/swagger';
import { MemberSummary } from '../../members/dto/member-summary.response';
import { PageOf } from '../../platform/http/pagination';
import { NOTIFICATION_TYPES, type NotificationType } from '../notification.entity';

export class NotificationResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({
    enum: NOTIFICATION_TYPES,
    description:
      'thread.started: someone started a thread with you. message.received: new messages (coalesced). webhook.disabled (org admins): a webhook endpoint was disabled.',
  })
  type!: NotificationType;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
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
    description:
      'Only on webhook.disabled (an extension of the SPEC shape): the endpoint that was disabled. Absent on the other types.',
  })
  endpointId?: string;

  @ApiProperty({
    example: 3,
    description: 'How many messages this notification stands for; grows while it is unread.',
  })
  count!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', description: 'Last time the count grew.' })
  updatedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  readAt!: string | null;
}

export class NotificationPageResponse extends PageOf(
  NotificationResponse,
  'NotificationPageResponse',
) {}

export class ReadAllResponse {
  @ApiProperty({ example: 4, description: 'How many notifications were marked read.' })
  updated!: number;
}
