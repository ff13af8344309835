/** The domain events integrators receive as webhooks (SPEC §2 "Webhooks"). */
export const WEBHOOK_EVENT_TYPES = [
  'thread.created',
  'message.created',
  'message.deleted',
  'message.read',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * Every event the service writes to the outbox, in the transaction of the change: the webhook
 * types, and two that only the members' event streams consume (a notification created, a
 * member's unread count changed by a block).
 */
export const OUTBOX_EVENT_TYPES = [
  ...WEBHOOK_EVENT_TYPES,
  'notification.created',
  'unread.changed',
] as const;
export type OutboxEventType = (typeof OUTBOX_EVENT_TYPES)[number];

/** The consumers of outbox events; each (event, consumer) pair has its state in event_consumers. */
export const CONSUMERS = ['notifications', 'webhooks', 'events'] as const;
export type Consumer = (typeof CONSUMERS)[number];
