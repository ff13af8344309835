import { Injectable } from '@nestjs/common';
import { PgPool } from '../platform/database/pg-pool';
import { Db } from '../platform/tenancy/db.service';
import type { MemberRole } from '../platform/auth/roles';
import type { NotificationType } from './notification-types';

export interface NotificationRow {
  id: string;
  type: NotificationType;
  threadId: string | null;
  actorId: string | null;
  actorName: string | null;
  actorRole: MemberRole | null;
  endpointId: string | null;
  count: number;
  createdAt: string;
  updatedAt: string;
  updatedKey: string;
  readAt: string | null;
}

/**
 * Notifications from someone the viewer blocks stay out of sight while the block lasts: not
 * listed, not counted, not changed by read or read-all.
 */
const NOT_BLOCKED = `not exists (select 1 from user_blocks b
                      where b.org_id = n.org_id and b.blocker_id = n.user_id and b.blocked_id = n.actor_id)`;

const COLUMNS = `
  select n.id, n.user_id as "userId", n.type, n.thread_id as "threadId", n.actor_id as "actorId",
         a.display_name as "actorName", a.role as "actorRole", n.endpoint_id as "endpointId", n.count,
         n.created_at as "createdAt", n.updated_at as "updatedAt",
         to_char(n.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "updatedKey",
         n.read_at as "readAt"
    from notifications n
    left join memberships a on a.org_id = n.org_id and a.user_id = n.actor_id`;

const SELECT = `${COLUMNS}
   where n.org_id = ? and n.user_id = ?
     and ${NOT_BLOCKED}`;

@Injectable()
export class NotificationsRepository {
  constructor(
    private readonly db: Db,
    private readonly pg: PgPool,
  ) {}

  list(
    orgId: string,
    userId: string,
    unreadOnly: boolean,
    limit: number,
    after: [string, string] | null,
  ): Promise<NotificationRow[]> {
    const params: unknown[] = [orgId, userId];
    let filters = unreadOnly ? ' and n.read_at is null' : '';
    if (after) {
      filters += ' and (n.updated_at, n.id) < (?::timestamptz, ?::uuid)';
      params.push(...after);
    }
    params.push(limit);
    return this.db.query<NotificationRow>(
      `${SELECT} ${filters} order by n.updated_at desc, n.id desc limit ?`,
      params,
    );
  }

  /** Notifications by id with their owner, as the owner sees them (hidden by a block: absent). */
  byIds(orgId: string, ids: string[]): Promise<(NotificationRow & { userId: string })[]> {
    if (!ids.length) return Promise.resolve([]);
    return this.db.query<NotificationRow & { userId: string }>(
      `${COLUMNS}
        where n.org_id = ? and n.id = any(?::uuid[]) and ${NOT_BLOCKED}`,
      [orgId, ids],
    );
  }

  async markRead(orgId: string, userId: string, id: string): Promise<NotificationRow | null> {
    const updated = await this.db.one<{ id: string }>(
      `update notifications n set read_at = coalesce(n.read_at, now())
        where n.org_id = ? and n.user_id = ? and n.id = ? and ${NOT_BLOCKED} returning n.id`,
      [orgId, userId, id],
    );
    if (!updated) return null;
    return this.db.one<NotificationRow>(`${SELECT} and n.id = ?`, [orgId, userId, id]);
  }

  async markAllRead(orgId: string, userId: string): Promise<number> {
    const rows = await this.db.query<{ id: string }>(
      `update notifications n set read_at = now()
        where n.org_id = ? and n.user_id = ? and n.read_at is null and ${NOT_BLOCKED} returning n.id`,
      [orgId, userId],
    );
    return rows.length;
  }

  /**
   * A batch of the notifications consumer as one statement, one implicit transaction (issue 17):
   * rm_process_notification_batch enters the org's tenant, locks the participant rows of the
   * events' threads in the order a send does, and decides each event (rm_process_notifications).
   * Returns each event's status (notified | skipped | duplicate | vanished), in order.
   */
  async processBatch(
    orgId: string,
    eventIds: string[],
    traces: (string | null)[],
  ): Promise<string[]> {
    const rows = await this.pg.call<{ status: string }>({
      sql: 'select status from rm_process_notification_batch(?::uuid, ?::uuid[], ?::text[])',
      params: [orgId, eventIds, traces],
    });
    return rows.map((r) => r.status);
  }
}
