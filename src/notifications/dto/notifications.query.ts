import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean } from 'class-validator';
import { PageQuery } from '../../platform/http/pagination';
import { IsOmittable } from '../../platform/http/decorators';

export class NotificationsQuery extends PageQuery {
  @ApiPropertyOptional({
    type: Boolean,
    description: 'Only unread notifications. Example: `true`.',
    default: false,
  })
  @IsOmittable()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean({ message: 'unreadOnly must be true or false' })
  unreadOnly?: boolean;
}
