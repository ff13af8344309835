import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsString,
  MaxLength,
} from 'class-validator';
import { IsText, IsOmittable } from '../../platform/http/decorators';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../platform/queues/outbox-types';
import { enumRef } from '../../platform/http/named-schemas';
import { WebhookEventTypeEnum } from './webhook-enums';

const URL_DOC = {
  example: 'https://hooks.example.com/resident-messaging',
  description:
    'https only, and not a private, loopback, link-local or otherwise internal address (checked now and again on the resolved address at each delivery), unless WEBHOOKS_ALLOW_PRIVATE_URLS=true.',
  maxLength: 2000,
};
const EVENTS_DOC = {
  ...enumRef(WebhookEventTypeEnum, true),
  example: ['message.created', 'message.read'],
  description: 'The events to receive.',
};

export class CreateEndpointDto {
  @ApiProperty(URL_DOC)
  @MaxLength(2000)
  // Type checks last in the source, first at run time (decorators apply bottom-up): a wrong type
  // is reported as such, not as a length.
  @IsString()
  url!: string;

  @ApiProperty(EVENTS_DOC)
  @IsIn(WEBHOOK_EVENT_TYPES, {
    each: true,
    message: `each event must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  })
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique(undefined, { message: 'events must not list an event twice' })
  @ArrayNotEmpty({ message: 'events must list at least one event' })
  @IsArray()
  events!: WebhookEventType[];

  @IsText({ max: 500, optional: true, description: 'A note for admins.', example: 'CRM sync' })
  description?: string;

  @ApiPropertyOptional({
    default: false,
    example: false,
    description:
      'Include the message text in message.created payloads. Off by default: payloads carry ids and metadata only.',
  })
  @IsOmittable()
  @IsBoolean()
  includeMessageBody?: boolean;
}

export class UpdateEndpointDto {
  @ApiPropertyOptional(URL_DOC)
  @IsOmittable()
  @MaxLength(2000)
  @IsString()
  url?: string;

  @ApiPropertyOptional(EVENTS_DOC)
  @IsOmittable()
  @IsIn(WEBHOOK_EVENT_TYPES, {
    each: true,
    message: `each event must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  })
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique(undefined, { message: 'events must not list an event twice' })
  @ArrayNotEmpty({ message: 'events must list at least one event' })
  @IsArray()
  events?: WebhookEventType[];

  @IsText({
    max: 500,
    optional: true,
    nullable: true,
    description: 'A note for admins; null clears it.',
    example: 'CRM sync',
  })
  description?: string | null;

  @ApiPropertyOptional({
    example: true,
    description: 'Include the message text in message.created payloads.',
  })
  @IsOmittable()
  @IsBoolean()
  includeMessageBody?: boolean;

  @ApiPropertyOptional({
    example: true,
    description: 'false disables deliveries; true re-enables (and forgets past failures).',
  })
  @IsOmittable()
  @IsBoolean()
  enabled?: boolean;
}
