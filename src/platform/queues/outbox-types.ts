/** The domain events the service writes to the outbox, in the transaction of the change. */
export const EVENT_TYPES = [
  'thread.created',
  'message.created',
  'message.deleted',
  'message.read',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The consumers of outbox events; each (event, consumer) pair has its state in event_consumers. */
export const CONSUMERS = ['notifications', 'webhooks'] as const;
export type Consumer = (typeof CONSUMERS)[number];
