import { Check, Entity, Enum, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';

@Entity({ tableName: 'message_threads' })
@Unique({ name: 'message_threads_pair_key', properties: ['orgId', 'userLow', 'userHigh'] })
@Check({ name: 'message_threads_pair_check', expression: '(user_low < user_high)' })
export class MessageThread {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Enum({ items: () => ['direct'], type: 'text', default: 'direct' })
  kind = 'direct' as const;

  @Property({ type: 'uuid' })
  userLow!: string;

  @Property({ type: 'uuid' })
  userHigh!: string;

  @Property({ type: 'uuid' })
  createdBy!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'integer', default: 0 })
  lastSeq = 0;

  @Property({ type: 'timestamptz', nullable: true })
  lastMessageAt?: Date | null;
}

/** What one participant sees of a thread; maintained in the writing transaction. */
@Entity({ tableName: 'thread_participants' })
@Index({
  name: 'thread_participants_list_idx',
  expression:
    'create index thread_participants_list_idx on thread_participants (org_id, user_id, activity_at desc, thread_id desc) where listed',
})
@Index({
  name: 'thread_participants_unread_idx',
  expression:
    'create index thread_participants_unread_idx on thread_participants (org_id, user_id) include (unread_count) where unread_count > 0',
})
export class ThreadParticipant {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  threadId!: string;

  @PrimaryKey({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'uuid' })
  otherUserId!: string;

  @Property({ type: 'boolean', default: false })
  blocksOther = false;

  @Property({ type: 'boolean', default: true })
  listed = true;

  @Property({ type: 'integer', default: 0 })
  lastReadSeq = 0;

  @Property({ type: 'timestamptz', nullable: true })
  lastReadAt?: Date | null;

  @Property({ type: 'integer', default: 0 })
  unreadCount = 0;

  @Property({ type: 'integer', nullable: true })
  lastVisibleSeq?: number | null;

  @Property({ type: 'timestamptz', nullable: true })
  lastMessageAt?: Date | null;

  @Property({ type: 'timestamptz' })
  activityAt!: Date;
}
