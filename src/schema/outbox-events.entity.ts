import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { OUTBOX_EVENT_TYPES, type OutboxEventType } from '../platform/queues/outbox-types';

/** A domain event written in the same transaction as the change it describes. */
@Entity({ tableName: 'outbox_events' })
@Index({
  name: 'outbox_events_unpublished_idx',
  expression:
    'create index outbox_events_unpublished_idx on outbox_events (created_at) where published_at is null',
})
export class OutboxEvent {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Enum({ items: () => [...OUTBOX_EVENT_TYPES], type: 'text' })
  type!: OutboxEventType;

  @Property({ type: 'uuid', nullable: true })
  threadId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  messageId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  actorId?: string | null;

  @Property({ type: 'integer', nullable: true })
  seq?: number | null;

  @Property({ type: 'json', defaultRaw: `'{}'` })
  data!: Record<string, unknown>;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  publishedAt?: Date | null;

  /** The W3C trace context of the transaction that wrote it (rm.traceparent), when traced. */
  @Property({
    type: 'text',
    nullable: true,
    defaultRaw: `nullif(current_setting('rm.traceparent'::text, true), ''::text)`,
  })
  traceparent?: string | null;
}
