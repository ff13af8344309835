import { Check, Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

/** A block. Private to the blocker: nothing the blocked user can observe reveals it. */
@Entity({ tableName: 'user_blocks' })
@Index({ name: 'user_blocks_blocked_idx', properties: ['orgId', 'blockedId', 'blockerId'] })
@Check({ name: 'user_blocks_self_check', expression: '(blocker_id <> blocked_id)' })
export class UserBlock {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  blockerId!: string;

  @PrimaryKey({ type: 'uuid' })
  blockedId!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;
}
