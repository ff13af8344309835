import { ApiProperty } from '@nestjs/swagger';
import { MemberSummary } from './member-summary.response';
import { PageOf } from '../../platform/http/pagination';

export class RecipientPageResponse extends PageOf(MemberSummary, 'RecipientPageResponse') {
  @ApiProperty({
    type: String,
    example: 'WyJhbGljZSBtYXJ0aW4iLCI3ZTU3YTAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwYTEiXQ',
  })
  override nextCursor!: string | null;
}
