import { Check, Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';
import {
  MEMBER_ROLES,
  VISIBILITIES,
  type MemberRole,
  type Visibility,
} from '../platform/auth/roles';

@Entity({ tableName: 'orgs' })
export class Org {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;
}

@Entity({ tableName: 'users' })
export class User {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;
}

@Entity({ tableName: 'memberships' })
@Check({
  name: 'memberships_display_name_check',
  expression: '((char_length(display_name) >= 1) AND (char_length(display_name) <= 200))',
})
@Index({
  name: 'memberships_directory_idx',
  expression:
    'create index memberships_directory_idx on memberships (org_id, lower(display_name), user_id)',
})
export class Membership {
  @PrimaryKey({ type: 'uuid' })
  orgId!: string;

  @PrimaryKey({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'text' })
  displayName!: string;

  @Enum({ items: () => [...MEMBER_ROLES], type: 'text' })
  role!: MemberRole;

  @Enum({ items: () => [...VISIBILITIES], type: 'text', default: 'visible' })
  visibility: Visibility = 'visible';

  @Property({ type: 'boolean', default: true })
  readReceipts = true;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  receiptsSince!: Date;

  @Property({ type: 'boolean', default: true })
  active = true;

  /** The token's `name` claim last seen: the claim refreshes displayName when it changes. */
  @Property({ type: 'text', nullable: true })
  tokenName?: string | null;

  /** The token's `role` claim last seen. */
  @Property({ type: 'text', nullable: true })
  tokenRole?: string | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt!: Date;
}
