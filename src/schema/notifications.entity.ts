import { Check, Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import type { NotificationType } from '../notifications/notification-types';

/** An in-app notification. No message text is ever stored here. */
@Entity({ tableName: 'notifications' })
@Check({ name: 'notifications_count_check', expression: '(count >= 1)' })
@Check({
  name: 'notifications_type_check',
  expression:
    "((((type = ANY (ARRAY['thread.started'::text, 'message.received'::text])) AND (thread_id IS NOT NULL) AND (actor_id IS NOT NULL)) OR ((type = 'webhook.disabled'::text) AND (endpoint_id IS NOT NULL))))",
})
@Index({
  name: 'notifications_open_key',
  expression:
    "create unique index notifications_open_key on notifications (org_id, user_id, thread_id, actor_id) where read_at is null and type = 'message.received'",
})
@Index({
  name: 'notifications_inbox_idx',
  expression:
    'create index notifications_inbox_idx on notifications (org_id, user_id, updated_at desc, id desc)',
})
@Index({
  name: 'notifications_unread_idx',
  expression:
    'create index notifications_unread_idx on notifications (org_id, user_id, thread_id) where read_at is null',
})
export class Notification {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid', defaultRaw: 'rm_uuid_v7()' })
  id!: string;

  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'text' })
  type!: NotificationType;

  @Property({ type: 'uuid', nullable: true })
  threadId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  actorId?: string | null;

  /** For webhook.disabled: the endpoint that was disabled. */
  @Property({ type: 'uuid', nullable: true })
  endpointId?: string | null;

  @Property({ type: 'integer', default: 1 })
  count = 1;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  readAt?: Date | null;
}
