import type { MessageResponse, UnreadCountResponse } from '../conversations/dto/message.response';
import type { ThreadResponse } from '../conversations/dto/thread.response';
import type { NotificationResponse } from '../notifications/dto/notification.response';

/** The events of a member's stream (SPEC §4a), with the JSON `data` of each. */
export interface StreamEventData {
  'thread.created': { thread: ThreadResponse };
  'message.created': { threadId: string; message: MessageResponse };
  'message.deleted': { threadId: string; messageId: string };
  'message.read': {
    threadId: string;
    readerId: string;
    lastReadMessageId: string;
    readAt: string;
  };
  'unread.changed': UnreadCountResponse;
  'notification.created': { notification: NotificationResponse };
}

export type StreamEventName = keyof StreamEventData;

export const STREAM_EVENT_NAMES: readonly StreamEventName[] = [
  'thread.created',
  'message.created',
  'message.deleted',
  'message.read',
  'unread.changed',
  'notification.created',
];

/** One event as a stream sends it: `seq` is its place in the member's stream. */
export interface StreamEvent<E extends StreamEventName = StreamEventName> {
  seq: number;
  event: E;
  data: StreamEventData[E];
}

/** What a worker publishes for one member after its transaction commits. */
export interface Published {
  orgId: string;
  userId: string;
  epoch: string;
  events: StreamEvent[];
}

/**
 * SSE ids are `<epoch>.<seq>`: opaque to clients, increasing within a member's stream. The epoch
 * changes when a member's stream starts over (its cursor was lost), so an id of an earlier life is
 * recognised as unknown rather than misread.
 */
export function formatEventId(epoch: string, seq: number): string {
  return `${epoch}.${seq}`;
}

export function parseEventId(id: string | undefined): { epoch: string; seq: number } | null {
  const match = /^([0-9a-f]{8})\.(\d{1,15})$/.exec(id ?? '');
  return match ? { epoch: match[1], seq: Number(match[2]) } : null;
}

/** One SSE frame (fields per the HTML standard; `data` is one JSON line). */
export function sseFrame(id: string, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
