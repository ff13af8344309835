import { Check, Entity, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';

@Entity({ tableName: 'messages' })
@Unique({ name: 'messages_thread_seq_key', properties: ['orgId', 'threadId', 'seq'] })
@Index({
  name: 'messages_client_message_id_key',
  expression:
    'create unique index messages_client_message_id_key on messages (org_id, sender_id, client_message_id) where client_message_id is not null',
})
@Check({ name: 'messages_body_check', expression: '((deleted_at IS NULL) = (body IS NOT NULL))' })
export class Message {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  threadId!: string;

  @Property({ type: 'integer' })
  seq!: number;

  @Property({ type: 'uuid' })
  senderId!: string;

  @Property({ type: 'text', nullable: true })
  body?: string | null;

  @Property({ type: 'text', nullable: true })
  clientMessageId?: string | null;

  @Property({ type: 'blob', columnType: 'bytea', nullable: true })
  requestHash?: Buffer | null;

  @Property({ type: 'boolean', default: false })
  withheld = false;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  deletedAt?: Date | null;
}

/** One forward move of a read pointer: messages (fromSeq, toSeq] were first seen at readAt. */
@Entity({ tableName: 'message_reads' })
@Check({ name: 'message_reads_range_check', expression: '(from_seq < to_seq)' })
export class MessageRead {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  threadId!: string;

  @PrimaryKey({ type: 'uuid' })
  readerId!: string;

  @PrimaryKey({ type: 'integer' })
  toSeq!: number;

  @Property({ type: 'integer' })
  fromSeq!: number;

  @Property({ type: 'timestamptz' })
  readAt!: Date;
}
