import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { IsClientMessageId, IsText } from '../../platform/http/decorators';

export class StartThreadDto {
  @ApiProperty({
    format: 'uuid',
    example: '7e57a000-0000-4000-8000-0000000000b2',
    description: 'A member of your org (see GET /messages/recipients).',
  })
  @IsUUID('all', { message: 'recipientId must be a UUID' })
  recipientId!: string;

  @IsText({
    max: 'message',
    optional: true,
    description: 'Optional first message; sent as a message if the thread already exists.',
    example: 'Hello, is the gym open on Sunday?',
  })
  body?: string;

  @IsClientMessageId()
  clientMessageId?: string;
}
