import { namedEnum } from '../../platform/http/named-schemas';
import { WEBHOOK_EVENT_TYPES } from '../../platform/queues/outbox-types';
import { DELIVERY_STATUSES, DISABLED_REASONS } from '../webhook-types';

/** The OpenAPI schema of a webhook event type (WebhookEventType). */
export const WebhookEventTypeEnum = namedEnum(
  'WebhookEventType',
  WEBHOOK_EVENT_TYPES,
  'An event delivered to webhook endpoints. Each one’s body is described by a Webhook…Payload schema (see WebhookPayload).',
);

/** The OpenAPI schema of why an endpoint is disabled (WebhookEndpointDisabledReason). */
export const WebhookEndpointDisabledReasonEnum = namedEnum(
  'WebhookEndpointDisabledReason',
  DISABLED_REASONS,
  'Why an endpoint is disabled: `manual` (PATCH enabled=false), `gone` (the receiver answered 410), `failing` (failed continuously for WEBHOOK_DISABLE_AFTER_HOURS).',
);

/** The OpenAPI schema of a delivery's status (WebhookDeliveryStatus). */
export const WebhookDeliveryStatusEnum = namedEnum(
  'WebhookDeliveryStatus',
  DELIVERY_STATUSES,
  'A delivery’s status, which describes its last attempt: `pending` (not attempted yet), `failed` (the last attempt failed; nextAttemptAt says when the next runs), `succeeded` (the last attempt succeeded), `exhausted` (no attempts left).',
);
