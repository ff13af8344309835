import { Injectable } from '@nestjs/common';
import { Db } from '../platform/tenancy/db.service';
import type { MemberRole } from '../platform/auth/roles';

export interface BlockedRow {
  blockedUserId: string;
  createdAt: string;
  createdKey: string;
  displayName: string;
  role: MemberRole;
}

@Injectable()
export class BlocksRepository {
  constructor(private readonly db: Db) {}

  async set(
    blockerId: string,
    blockerRole: string,
    blockedId: string,
    on: boolean,
  ): Promise<{
    status: 'not-found' | 'created' | 'existing' | 'removed' | 'absent';
    createdAt: string | null;
  }> {
    const row = await this.db.one<{
      status: 'not-found' | 'created' | 'existing' | 'removed' | 'absent';
      createdAt: string | null;
    }>(`select status, created_at as "createdAt" from rm_set_block(?, ?, ?, ?)`, [
      blockerId,
      blockedId,
      on,
      blockerRole,
    ]);
    return row!;
  }

  list(
    orgId: string,
    blockerId: string,
    limit: number,
    after: [string, string] | null,
  ): Promise<BlockedRow[]> {
    const params: unknown[] = [orgId, blockerId];
    let cursor = '';
    if (after) {
      cursor = 'and (b.created_at, b.blocked_id) < (?::timestamptz, ?::uuid)';
      params.push(...after);
    }
    params.push(limit);
    return this.db.query<BlockedRow>(
      `select b.blocked_id as "blockedUserId", b.created_at as "createdAt",
              to_char(b.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "createdKey",
              m.display_name as "displayName", m.role
         from user_blocks b
         join memberships m on m.org_id = b.org_id and m.user_id = b.blocked_id
        where b.org_id = ? and b.blocker_id = ? ${cursor}
        order by b.created_at desc, b.blocked_id desc
        limit ?`,
      params,
    );
  }
}
