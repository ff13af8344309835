import type { WebhookEventType } from '../platform/queues/outbox-types';

export interface EventFacts {
  type: WebhookEventType;
  createdAt: string;
  orgId: string;
  threadId: string;
  messageId: string | null;
  seq: number | null;
  actorId: string;
}

/**
 * The delivery body, rendered once per event and endpoint: ids and metadata, plus the message
 * text only for message.created when the endpoint asked for it (and the message still has one).
 */
export function renderPayload(event: EventFacts, body: string | null): string {
  const data: Record<string, unknown> = { orgId: event.orgId, threadId: event.threadId };
  switch (event.type) {
    case 'thread.created':
      data.senderId = event.actorId;
      break;
    case 'message.created':
      Object.assign(data, { messageId: event.messageId, seq: event.seq, senderId: event.actorId });
      if (body !== null) data.body = body;
      break;
    case 'message.deleted':
      Object.assign(data, { messageId: event.messageId, seq: event.seq, senderId: event.actorId });
      break;
    case 'message.read':
      Object.assign(data, { messageId: event.messageId, seq: event.seq, readerId: event.actorId });
      break;
  }
  return JSON.stringify({
    type: event.type,
    timestamp: new Date(event.createdAt).toISOString(),
    data,
  });
}
