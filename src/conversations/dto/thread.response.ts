import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MemberSummary } from '../../members/dto/member-summary.response';
import { MessagePageResponse, MessageResponse } from './message.response';
import { PageOf } from '../../platform/http/pagination';
import { ApiEnumProperty, namedEnum } from '../../platform/http/named-schemas';

/** The kinds of thread: one-to-one only, for now. */
export const THREAD_KINDS = ['direct'] as const;
export type ThreadKind = (typeof THREAD_KINDS)[number];

/** The OpenAPI schema of a thread's kind (ThreadKind). */
export const ThreadKindEnum = namedEnum(
  'ThreadKind',
  THREAD_KINDS,
  'The kind of thread: `direct` (one-to-one between two members) is the only one.',
);

export class ThreadResponse {
  @ApiProperty({ format: 'uuid', example: '01a21826-4154-7c3e-8a41-5b0d2e6f9c18' })
  id!: string;

  @ApiEnumProperty(ThreadKindEnum, { example: 'direct' })
  kind!: ThreadKind;

  @ApiProperty({ type: () => [MemberSummary], description: 'Both participants, you included.' })
  participants!: MemberSummary[];

  @ApiProperty({
    type: () => MessageResponse,
    nullable: true,
    description: 'The newest message you may see (a tombstone if deleted), or null.',
  })
  lastMessage!: MessageResponse | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-11-26T14:02:55.120Z',
    description: 'Time of the newest message you may see; null for an empty thread.',
  })
  lastMessageAt!: string | null;

  @ApiProperty({
    type: 'integer',
    example: 2,
    description: 'Messages from others past your read pointer, not deleted, that you may see.',
  })
  unreadCount!: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T13:58:10.004Z' })
  createdAt!: string;
}

export class ThreadPageResponse extends PageOf(ThreadResponse, 'ThreadPageResponse') {
  @ApiProperty({
    type: String,
    example:
      'WyIyMDI2LTExLTI2VDE0OjAyOjU1LjEyMDAwMFoiLCIwMWEyMTgyNi00MTU0LTdjM2UtOGE0MS01YjBkMmU2ZjljMTgiXQ',
  })
  override nextCursor!: string | null;
}

export class StartThreadResponse {
  @ApiProperty({ type: () => ThreadResponse })
  thread!: ThreadResponse;

  @ApiPropertyOptional({
    type: () => MessageResponse,
    description: 'Present when a body was sent.',
  })
  message?: MessageResponse;
}

export class ThreadViewResponse {
  @ApiProperty({ type: () => ThreadResponse })
  thread!: ThreadResponse;

  @ApiProperty({ type: () => MessagePageResponse, description: 'The latest page, chronological.' })
  messages!: MessagePageResponse;
}
