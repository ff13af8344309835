import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { ApiEnumProperty, namedSchema } from '../../platform/http/named-schemas';
import type { WebhookEventType } from '../../platform/queues/outbox-types';
import { WebhookEventTypeEnum } from './webhook-enums';

/*
 * The JSON bodies webhook deliveries POST (rendered by ../payload.ts; docs/webhooks.md): the API
 * never returns them, the document describes them for receivers and their generated types.
 */

const ORG_ID = '7e57a000-0000-4000-8000-000000000000';
const THREAD_ID = '019b6a2e-1111-7e8f-9a0b-1c2d3e4f5a6b';
const MESSAGE_ID = '019b6a2e-3c4d-7e8f-9a0b-1c2d3e4f5a6b';
const SENDER_ID = '7e57a000-0000-4000-8000-0000000000a1';
const READER_ID = '7e57a000-0000-4000-8000-0000000000b2';

class WebhookThreadData {
  @ApiProperty({ format: 'uuid', example: ORG_ID, description: 'The organization.' })
  orgId!: string;

  @ApiProperty({ format: 'uuid', example: THREAD_ID })
  threadId!: string;
}

class WebhookMessageData extends WebhookThreadData {
  @ApiProperty({ format: 'uuid', example: MESSAGE_ID })
  messageId!: string;

  @ApiProperty({
    type: 'integer',
    example: 7,
    description: 'The message’s position in its thread (order events by timestamp and seq).',
  })
  seq!: number;
}

export class WebhookThreadCreatedData extends WebhookThreadData {
  @ApiProperty({ format: 'uuid', example: SENDER_ID, description: 'Who started the thread.' })
  senderId!: string;
}

export class WebhookMessageCreatedData extends WebhookMessageData {
  @ApiProperty({ format: 'uuid', example: SENDER_ID })
  senderId!: string;

  @ApiPropertyOptional({
    example: 'Hi! The parcel is at the front desk.',
    description:
      'The message text: only when the endpoint has includeMessageBody, and not once the message is deleted (pending deliveries are rewritten without it).',
  })
  body?: string;
}

export class WebhookMessageDeletedData extends WebhookMessageData {
  @ApiProperty({ format: 'uuid', example: SENDER_ID })
  senderId!: string;
}

export class WebhookMessageReadData extends WebhookMessageData {
  @ApiProperty({
    format: 'uuid',
    example: READER_ID,
    description: 'Who read (messageId and seq: the newest message they have read).',
  })
  readerId!: string;
}

const TIMESTAMP_DOC = {
  format: 'date-time',
  example: '2026-11-26T14:02:55.120Z',
  description: 'When the event happened.',
};

function typeDoc(type: WebhookEventType) {
  return ApiEnumProperty(WebhookEventTypeEnum, {
    example: type,
    description: `Always \`${type}\`.`,
  });
}

/** The body POSTed for `thread.created`. */
export class WebhookThreadCreatedPayload {
  @typeDoc('thread.created')
  type!: 'thread.created';

  @ApiProperty(TIMESTAMP_DOC)
  timestamp!: string;

  @ApiProperty({ type: () => WebhookThreadCreatedData })
  data!: WebhookThreadCreatedData;
}

/** The body POSTed for `message.created`. */
export class WebhookMessageCreatedPayload {
  @typeDoc('message.created')
  type!: 'message.created';

  @ApiProperty(TIMESTAMP_DOC)
  timestamp!: string;

  @ApiProperty({ type: () => WebhookMessageCreatedData })
  data!: WebhookMessageCreatedData;
}

/** The body POSTed for `message.deleted`. */
export class WebhookMessageDeletedPayload {
  @typeDoc('message.deleted')
  type!: 'message.deleted';

  @ApiProperty(TIMESTAMP_DOC)
  timestamp!: string;

  @ApiProperty({ type: () => WebhookMessageDeletedData })
  data!: WebhookMessageDeletedData;
}

/** The body POSTed for `message.read`. */
export class WebhookMessageReadPayload {
  @typeDoc('message.read')
  type!: 'message.read';

  @ApiProperty(TIMESTAMP_DOC)
  timestamp!: string;

  @ApiProperty({ type: () => WebhookMessageReadData })
  data!: WebhookMessageReadData;
}

/** Each webhook event type and the schema of the body its deliveries POST. */
export const WEBHOOK_PAYLOADS = {
  'thread.created': WebhookThreadCreatedPayload,
  'message.created': WebhookMessageCreatedPayload,
  'message.deleted': WebhookMessageDeletedPayload,
  'message.read': WebhookMessageReadPayload,
} satisfies Record<WebhookEventType, new () => { type: WebhookEventType }>;

/** Any delivery's body, told apart by `type`. */
namedSchema('WebhookPayload', {
  description:
    'The JSON body a webhook delivery POSTs: `{ type, timestamp, data }`, `data` depending on `type`. Signed per the Standard Webhooks spec (docs/webhooks.md).',
  oneOf: Object.values(WEBHOOK_PAYLOADS).map((payload) => ({ $ref: getSchemaPath(payload) })),
  discriminator: {
    propertyName: 'type',
    mapping: Object.fromEntries(
      Object.entries(WEBHOOK_PAYLOADS).map(([type, payload]) => [type, getSchemaPath(payload)]),
    ),
  },
});
