import { ApiProperty } from '@nestjs/swagger';
import { MemberSummary } from '../../members/dto/member-summary.response';

export class SeenByResponse {
  @ApiProperty({ format: 'uuid', example: '7e57a000-0000-4000-8000-0000000000b2' })
  userId!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2026-11-26T14:03:11.482Z',
    description: 'When this participant’s read pointer first passed the message.',
  })
  seenAt!: string;
}

export class MessageResponse {
  @ApiProperty({
    format: 'uuid',
    example: '01a2182a-9b10-7f2d-9e84-3c6a1b5d7e02',
    description: 'UUIDv7: time-ordered.',
  })
  id!: string;

  @ApiProperty({ format: 'uuid', example: '01a21826-4154-7c3e-8a41-5b0d2e6f9c18' })
  threadId!: string;

  @ApiProperty({
    type: 'integer',
    example: 7,
    description:
      'Position in the thread (1, 2, 3 …). You may see gaps where messages are hidden from you; a gap never means loss.',
  })
  seq!: number;

  @ApiProperty({ type: () => MemberSummary })
  sender!: MemberSummary;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Hi! The parcel is at the front desk.',
    description: 'null once deleted.',
  })
  body!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    description: 'The sender’s idempotency key; shown to the sender only (null for others).',
  })
  clientMessageId!: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T14:02:55.120Z' })
  createdAt!: string;

  @ApiProperty({ example: false })
  deleted!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  deletedAt!: string | null;

  @ApiProperty({
    type: () => [SeenByResponse],
    description:
      'For each other participant whose read pointer has passed this message, when it first did. Empty until then, and always empty when either you or they have read receipts off.',
  })
  seenBy!: SeenByResponse[];
}

export class MessagePageResponse {
  @ApiProperty({ type: () => [MessageResponse], description: 'Chronological (ascending seq).' })
  data!: MessageResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    example: '01a21828-6e3a-7d41-8b27-9f1c3a5e7d60',
    description: 'Pass as `before` for older messages; null when there are none.',
  })
  nextCursor!: string | null;
}

export class ReadResponse {
  @ApiProperty({ format: 'uuid', example: '01a21826-4154-7c3e-8a41-5b0d2e6f9c18' })
  threadId!: string;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    example: '01a2182a-9b10-7f2d-9e84-3c6a1b5d7e02',
    description: 'The message your read pointer is at (null before any read).',
  })
  lastReadMessageId!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-11-26T14:03:11.482Z',
    description: 'When the pointer last moved.',
  })
  readAt!: string | null;
}

export class UnreadCountResponse {
  @ApiProperty({
    type: 'integer',
    example: 5,
    description: 'Unread messages you may see, over all your threads.',
  })
  total!: number;

  @ApiProperty({
    type: 'integer',
    example: 2,
    description: 'Threads holding at least one of them.',
  })
  threads!: number;
}
