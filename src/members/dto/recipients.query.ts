import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../platform/http/pagination';

export class RecipientsQuery extends PageQuery {
  @ApiPropertyOptional({
    description: 'Case-insensitive search in display names (substring).',
    example: 'mar',
    maxLength: 100,
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}
