import { Check, Entity, Enum, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import {
  DELIVERY_STATUSES,
  DISABLED_REASONS,
  type DeliveryStatus,
  type DisabledReason,
} from '../webhooks/webhook-types';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../platform/queues/outbox-types';

@Entity({ tableName: 'webhook_endpoints' })
@Index({
  name: 'webhook_endpoints_org_idx',
  expression:
    'create index webhook_endpoints_org_idx on webhook_endpoints (org_id, created_at desc, id desc)',
})
@Check({
  name: 'webhook_endpoints_events_check',
  expression:
    "(((cardinality(events) > 0) AND (events <@ ARRAY['thread.created'::text, 'message.created'::text, 'message.deleted'::text, 'message.read'::text])))",
})
export class WebhookEndpoint {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'text' })
  url!: string;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  @Property({ type: 'text[]', columnType: 'text[]' })
  events!: WebhookEventType[];

  @Property({ type: 'boolean', default: false })
  includeMessageBody = false;

  @Property({ type: 'boolean', default: true })
  enabled = true;

  @Enum({ items: () => [...DISABLED_REASONS], type: 'text', nullable: true })
  disabledReason?: DisabledReason | null;

  @Property({ type: 'timestamptz', nullable: true })
  disabledAt?: Date | null;

  /** AES-256-GCM with WEBHOOK_ENCRYPTION_KEY; never logged, never in job data. */
  @Property({ type: 'text' })
  secretCiphertext!: string;

  @Property({ type: 'text', nullable: true })
  previousSecretCiphertext?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  previousSecretExpiresAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  failingSince?: Date | null;

  @Property({ type: 'uuid' })
  createdBy!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt!: Date;
}

/** Which orgs have an enabled endpoint for which event types (the relay's routing). */
@Entity({ tableName: 'webhook_routes' })
export class WebhookRoute {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'text' })
  eventType!: string;
}

@Entity({ tableName: 'webhook_deliveries' })
@Unique({
  name: 'webhook_deliveries_event_endpoint_key',
  properties: ['orgId', 'eventId', 'endpointId'],
})
@Index({
  name: 'webhook_deliveries_endpoint_idx',
  expression:
    'create index webhook_deliveries_endpoint_idx on webhook_deliveries (org_id, endpoint_id, created_at desc, id desc)',
})
@Index({
  name: 'webhook_deliveries_due_idx',
  expression:
    'create index webhook_deliveries_due_idx on webhook_deliveries (endpoint_id, next_attempt_at) where next_attempt_at is not null',
})
@Index({
  name: 'webhook_deliveries_leased_idx',
  expression:
    'create index webhook_deliveries_leased_idx on webhook_deliveries (endpoint_id) where lease_until is not null',
})
@Index({
  name: 'webhook_deliveries_body_message_idx',
  expression:
    'create index webhook_deliveries_body_message_idx on webhook_deliveries (org_id, body_message_id) where body_message_id is not null',
})
export class WebhookDelivery {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  endpointId!: string;

  @Property({ type: 'uuid' })
  eventId!: string;

  @Enum({ items: () => [...WEBHOOK_EVENT_TYPES], type: 'text' })
  eventType!: WebhookEventType;

  @Property({ type: 'text' })
  webhookId!: string;

  /** Rendered once per event and endpoint; each attempt signs it anew. */
  @Property({ type: 'text' })
  payload!: string;

  /** The message whose text the payload carries; a delete takes the text out and clears this. */
  @Property({ type: 'uuid', nullable: true })
  bodyMessageId?: string | null;

  /** The trace context of the fan-out that created it; each attempt continues that trace. */
  @Property({ type: 'text', nullable: true })
  traceparent?: string | null;

  @Enum({ items: () => [...DELIVERY_STATUSES], type: 'text', default: 'pending' })
  status: DeliveryStatus = 'pending';

  @Property({ type: 'integer', default: 0 })
  attempts = 0;

  @Property({ type: 'integer', nullable: true })
  lastStatusCode?: number | null;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  nextAttemptAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  leaseUntil?: Date | null;

  @Property({ type: 'integer', default: 0 })
  dispatches = 0;

  /** The dispatch whose attempt has started, and the job that started it (only it may again). */
  @Property({ type: 'integer', nullable: true })
  startedDispatch?: number | null;

  @Property({ type: 'text', nullable: true })
  startedJob?: string | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt!: Date;
}

@Entity({ tableName: 'webhook_attempts' })
@Unique({
  name: 'webhook_attempts_delivery_attempt_key',
  properties: ['orgId', 'deliveryId', 'attempt'],
})
export class WebhookAttempt {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid', defaultRaw: 'rm_uuid_v7()' })
  id!: string;

  @Property({ type: 'uuid' })
  deliveryId!: string;

  @Property({ type: 'integer' })
  attempt!: number;

  @Property({ type: 'timestamptz' })
  startedAt!: Date;

  @Property({ type: 'integer' })
  durationMs!: number;

  @Property({ type: 'integer', nullable: true })
  statusCode?: number | null;

  @Property({ type: 'text', nullable: true })
  error?: string | null;

  /** At most 4 KB of what the receiver answered. */
  @Property({ type: 'text', nullable: true })
  responseBody?: string | null;
}
