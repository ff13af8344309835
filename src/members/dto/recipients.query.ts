import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../platform/http/pagination';
import { IsOmittable } from '../../platform/http/decorators';

export class RecipientsQuery extends PageQuery {
  @ApiPropertyOptional({
    description: 'Case-insensitive search in display names (substring).',
    example: 'mar',
    maxLength: 100,
  })
  @IsOmittable()
  @IsString()
  @MaxLength(100)
  q?: string;
}
