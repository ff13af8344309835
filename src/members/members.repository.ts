import { Injectable } from '@nestjs/common';
import { Db } from '../platform/database/db.service';
import type { MemberRole } from './membership.entity';

export interface DirectoryRow {
  userId: string;
  displayName: string;
  role: MemberRole;
  sortKey: string;
}

@Injectable()
export class MembersRepository {
  constructor(private readonly db: Db) {}

  /**
   * The members the caller may message: active, not the caller; for residents only visible
   * members who do not block them (a blocker looks like a member who turned hidden). Ordered by
   * display name, index-backed by memberships_directory_idx.
   */
  directory(input: {
    orgId: string;
    callerId: string;
    staff: boolean;
    search: string | null;
    after: [string, string] | null;
    limit: number;
  }): Promise<DirectoryRow[]> {
    const params: unknown[] = [input.orgId, input.callerId, input.staff, input.callerId];
    let filters = '';
    if (input.search) {
      // Case- and accent-insensitive (rm_search_fold on both sides); a substring match.
      filters += ` and rm_search_fold(m.display_name) like rm_search_fold(?) escape '\\'`;
      params.push(`%${escapeLike(input.search)}%`);
    }
    if (input.after) {
      filters += ' and (lower(m.display_name), m.user_id) > (?, ?::uuid)';
      params.push(...input.after);
    }
    params.push(input.limit);
    return this.db.query<DirectoryRow>(
      `select m.user_id as "userId", m.display_name as "displayName", m.role, lower(m.display_name) as "sortKey"
         from memberships m
        where m.org_id = ? and m.active and m.user_id <> ?
          and (?::boolean or (m.visibility = 'visible' and not exists (
                select 1 from user_blocks b
                 where b.org_id = m.org_id and b.blocker_id = m.user_id and b.blocked_id = ?)))
          ${filters}
        order by lower(m.display_name), m.user_id
        limit ?`,
      params,
    );
  }
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
