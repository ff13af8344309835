import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';

export class MarkReadDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Read up to and including this message; default: the latest message you can see.',
  })
  @IsOptional()
  @IsUUID('all', { message: 'upToMessageId must be a UUID' })
  upToMessageId?: string;
}
