import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { CONSUMERS, type Consumer } from '../platform/queues/outbox-types';

/** The state of one consumer's work on one event: PostgreSQL owns it, Redis only dispatches. */
@Entity({ tableName: 'event_consumers' })
@Index({
  name: 'event_consumers_due_idx',
  expression:
    'create index event_consumers_due_idx on event_consumers (next_attempt_at) where done_at is null and dead_at is null',
})
@Index({
  name: 'event_consumers_events_due_idx',
  expression:
    "create index event_consumers_events_due_idx on event_consumers (next_attempt_at, created_at) where consumer = 'events' and done_at is null and dead_at is null",
})
export class EventConsumer {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  eventId!: string;

  @Enum({ items: () => [...CONSUMERS], type: 'text', primary: true })
  consumer!: Consumer;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Property({ type: 'integer', default: 0 })
  attempts = 0;

  @Property({ type: 'integer', default: 1 })
  dispatches = 1;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  doneAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  deadAt?: Date | null;
}
