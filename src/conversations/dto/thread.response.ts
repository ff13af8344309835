import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MemberSummary } from '../../members/dto/member-summary.response';
import { MessagePageResponse, MessageResponse } from './message.response';
import { PageOf } from '../../platform/http/pagination';

export class ThreadResponse {
  @ApiProperty({ format: 'uuid', example: '01a21826-4154-7c3e-8a41-5b0d2e6f9c18' })
  id!: string;

  @ApiProperty({ enum: ['direct'], example: 'direct' })
  kind!: 'direct';

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
