import { ApiProperty } from '@nestjs/swagger';
import { MemberSummary } from '../../members/dto/member-summary.response';
import { PageOf } from '../../platform/http/pagination';

export class BlockResponse {
  @ApiProperty({ format: 'uuid', example: '7e57a000-0000-4000-8000-0000000000b2' })
  blockedUserId!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2026-11-26T15:12:44.731Z',
    description: 'When the block was first placed (a repeated block keeps it).',
  })
  createdAt!: string;
}

export class BlockedUserResponse extends BlockResponse {
  @ApiProperty({ type: () => MemberSummary, description: 'The blocked member’s display info.' })
  user!: MemberSummary;
}

export class BlockedUserPageResponse extends PageOf(
  BlockedUserResponse,
  'BlockedUserPageResponse',
) {
  @ApiProperty({
    type: String,
    example:
      'WyIyMDI2LTExLTI2VDE1OjEyOjQ0LjczMTAwMFoiLCI3ZTU3YTAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwYjIiXQ',
  })
  override nextCursor!: string | null;
}
