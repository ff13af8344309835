import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NO_CONTROL = /^[^\u0000-\u001F\u007F-\u009F]*$/;
import { PageQuery } from '../../platform/http/pagination';
import { IsOmittable } from '../../platform/http/decorators';

export class RecipientsQuery extends PageQuery {
  @ApiPropertyOptional({
    description:
      'Search in display names: a substring, matched case- and accent-insensitively ("zoe" finds "Zoë"). Example: `mar`.',
    maxLength: 100,
  })
  @IsOmittable()
  @MaxLength(100)
  @Matches(NO_CONTROL, { message: 'q must not contain control characters' })
  // Checked first (decorators apply bottom-up): `?q=a&q=b` is "must be a string".
  @IsString({ message: 'q must be given once, as a string' })
  q?: string;
}
