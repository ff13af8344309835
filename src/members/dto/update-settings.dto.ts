import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn } from 'class-validator';
import { VISIBILITIES, type Visibility } from '../../platform/auth/roles';
import { IsOmittable } from '../../platform/http/decorators';
import { ApiEnumPropertyOptional } from '../../platform/http/named-schemas';
import { MemberVisibilityEnum } from './member-enums';

export class UpdateSettingsDto {
  @ApiEnumPropertyOptional(MemberVisibilityEnum, {
    example: 'hidden',
    description:
      'hidden: residents no longer find you in the directory or start new threads with you; existing threads go on.',
  })
  @IsOmittable()
  @IsIn(VISIBILITIES)
  visibility?: Visibility;

  @ApiPropertyOptional({
    example: false,
    description:
      'false: you emit no read receipts and see none. Turning it back on reveals only reads made from then on.',
  })
  @IsOmittable()
  @IsBoolean()
  readReceipts?: boolean;
}
