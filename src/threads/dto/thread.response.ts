import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MemberSummary } from '../../members/dto/member-summary.response';
import { MessagePageResponse, MessageResponse } from '../../messages/dto/message.response';
import { PageOf } from '../../platform/http/pagination';

export class ThreadResponse {
  @ApiProperty({ format: 'uuid', example: '019b6a2e-1111-7e8f-9a0b-1c2d3e4f5a6b' })
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
    description: 'Time of the newest message you may see; null for an empty thread.',
  })
  lastMessageAt!: string | null;

  @ApiProperty({
    example: 2,
    description: 'Messages from others past your read pointer, not deleted, that you may see.',
  })
  unreadCount!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class ThreadPageResponse extends PageOf(ThreadResponse, 'ThreadPageResponse') {}

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
