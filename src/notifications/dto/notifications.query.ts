import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { PageQuery } from '../../platform/http/pagination';

export class NotificationsQuery extends PageQuery {
  @ApiPropertyOptional({ type: Boolean, description: 'Only unread notifications.', default: false })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean({ message: 'unreadOnly must be true or false' })
  unreadOnly?: boolean;
}
