import { ApiProperty } from '@nestjs/swagger';
import type { MemberRole } from '../../platform/auth/roles';
import { ApiEnumProperty } from '../../platform/http/named-schemas';
import { MemberRoleEnum } from './member-enums';

/** How a member appears to others: in participants, senders and the directory. */
export class MemberSummary {
  @ApiProperty({ format: 'uuid', example: '7e57a000-0000-4000-8000-0000000000a1' })
  userId!: string;

  @ApiProperty({ example: 'Alice Martin' })
  displayName!: string;

  @ApiEnumProperty(MemberRoleEnum, { example: 'resident' })
  role!: MemberRole;
}
