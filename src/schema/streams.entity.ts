import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';

const STREAM_EVENT_TYPES = [
  'thread.created',
  'message.created',
  'message.deleted',
  'message.read',
  'unread.changed',
  'notification.created',
] as const;

/** Per member: the last sequence number of their event stream, and its epoch. */
@Entity({ tableName: 'stream_cursors' })
export class StreamCursor {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'text', defaultRaw: 'substr(md5((random())::text), 1, 8)' })
  epoch!: string;

  @Property({ type: 'bigint', default: 0 })
  lastSeq!: string;
}

/** What a member's streams were sent, by sequence number (resume reads it back). */
@Entity({ tableName: 'stream_events' })
@Index({
  name: 'stream_events_created_idx',
  expression: 'create index stream_events_created_idx on stream_events (created_at)',
})
export class StreamEvent {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  userId!: string;

  @PrimaryKey({ type: 'bigint' })
  seq!: string;

  @Enum({ items: () => [...STREAM_EVENT_TYPES], type: 'text' })
  type!: (typeof STREAM_EVENT_TYPES)[number];

  @Property({ type: 'uuid', nullable: true })
  threadId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  messageId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  notificationId?: string | null;

  @Property({ type: 'json', defaultRaw: `'{}'` })
  data!: Record<string, unknown>;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;
}

/** A stream ticket's nonce, kept until it expires: a ticket opens one stream, once. */
@Entity({ tableName: 'stream_tickets' })
@Index({
  name: 'stream_tickets_expires_idx',
  expression: 'create index stream_tickets_expires_idx on stream_tickets (expires_at)',
})
export class StreamTicket {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'text' })
  nonce!: string;

  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;
}
