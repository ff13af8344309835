import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { IsOmittable } from '../../platform/http/decorators';

export class MarkReadDto {
  @ApiPropertyOptional({
    format: 'uuid',
    example: '01a2182a-9b10-7f2d-9e84-3c6a1b5d7e02',
    description: 'Read up to and including this message; default: the latest message you can see.',
  })
  @IsOmittable()
  @IsUUID('all', { message: 'upToMessageId must be a UUID' })
  upToMessageId?: string;
}
