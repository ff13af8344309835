import { ApiProperty } from '@nestjs/swagger';
import type { MemberRole, Visibility } from '../../platform/auth/roles';
import { ApiEnumProperty } from '../../platform/http/named-schemas';
import type { MemberSnapshot } from '../../platform/tenancy/tenant-context';
import { MemberRoleEnum, MemberVisibilityEnum } from './member-enums';

export class MembershipResponse {
  @ApiProperty({ format: 'uuid', example: '0b7c4d9e-6f1a-4c2b-9d3e-5f6a7b8c9d0e' })
  orgId!: string;

  @ApiProperty({ format: 'uuid', example: '7e57a000-0000-4000-8000-0000000000a1' })
  userId!: string;

  @ApiProperty({ example: 'Alice Martin' })
  displayName!: string;

  @ApiEnumProperty(MemberRoleEnum, { example: 'resident' })
  role!: MemberRole;

  @ApiEnumProperty(MemberVisibilityEnum, {
    example: 'visible',
    description:
      'hidden: left out of residents’ recipient directory; residents cannot start new threads with you.',
  })
  visibility!: Visibility;

  @ApiProperty({
    example: true,
    description: 'When false you emit no read receipts and see none.',
  })
  readReceipts!: boolean;

  @ApiProperty({ example: true })
  active!: boolean;

  @ApiProperty({ format: 'date-time', example: '2026-09-14T08:21:37.512Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T13:57:48.090Z' })
  updatedAt!: string;
}

export function toMembershipResponse(orgId: string, m: MemberSnapshot): MembershipResponse {
  return {
    orgId,
    userId: m.userId,
    displayName: m.displayName,
    role: m.role,
    visibility: m.visibility,
    readReceipts: m.readReceipts,
    active: m.active,
    createdAt: new Date(m.createdAt).toISOString(),
    updatedAt: new Date(m.updatedAt).toISOString(),
  };
}
