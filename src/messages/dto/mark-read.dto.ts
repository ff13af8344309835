import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { IsOmittable } from '../../platform/http/decorators';

export class MarkReadDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Read up to and including this message; default: the latest message you can see.',
  })
  @IsOmittable()
  @IsUUID('all', { message: 'upToMessageId must be a UUID' })
  upToMessageId?: string;
}
