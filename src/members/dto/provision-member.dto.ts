import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn } from 'class-validator';
import { cleanDisplayName } from '../../platform/auth/principal';
import { IsText, IsOmittable } from '../../platform/http/decorators';
import { ApiEnumProperty, ApiEnumPropertyOptional } from '../../platform/http/named-schemas';
import { MemberRoleEnum, MemberVisibilityEnum } from './member-enums';
import {
  MEMBER_ROLES,
  VISIBILITIES,
  type MemberRole,
  type Visibility,
} from '../../platform/auth/roles';

export class ProvisionMemberDto {
  @IsText({
    max: 200,
    description:
      'Name shown to other members. Zero-width and bidirectional control characters are removed and the name is stored in Unicode NFC.',
    example: 'Alice Martin',
    singleLine: true,
    clean: cleanDisplayName,
  })
  displayName!: string;

  @ApiEnumProperty(MemberRoleEnum, { example: 'resident' })
  @IsIn(MEMBER_ROLES)
  role!: MemberRole;

  @ApiEnumPropertyOptional(MemberVisibilityEnum, { default: 'visible', example: 'visible' })
  @IsOmittable()
  @IsIn(VISIBILITIES)
  visibility?: Visibility;

  @ApiPropertyOptional({
    default: true,
    example: true,
    description: 'false: the member emits no read receipts and sees none.',
  })
  @IsOmittable()
  @IsBoolean()
  readReceipts?: boolean;
}
