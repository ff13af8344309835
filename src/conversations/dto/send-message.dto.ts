import { IsClientMessageId, IsText } from '../../platform/http/decorators';

export class SendMessageDto {
  @IsText({
    max: 'message',
    description: 'The message text.',
    example: 'Hi! The parcel is at the front desk.',
  })
  body!: string;

  @IsClientMessageId()
  clientMessageId?: string;
}
