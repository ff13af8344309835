import { Injectable } from '@nestjs/common';
import { Db } from '../platform/tenancy/db.service';
import type { MemberRole, Visibility } from '../platform/auth/roles';
import type { MemberSnapshot } from '../platform/tenancy/tenant-context';

export interface DirectoryRow {
  userId: string;
  displayName: string;
  role: MemberRole;
  sortKey: string;
}

/** A membership as MemberSnapshot (the tenant context's shape). */
export const MEMBER_COLUMNS = `user_id as "userId", display_name as "displayName", role, visibility,
       read_receipts as "readReceipts", receipts_since as "receiptsSince", active,
       created_at as "createdAt", updated_at as "updatedAt"`;

export interface ProvisionInput {
  displayName: string;
  role: MemberRole;
  visibility?: Visibility;
  readReceipts?: boolean;
}

@Injectable()
export class MembersRepository {
  constructor(private readonly db: Db) {}

  /**
   * Changes the caller's own settings. Turning receipts back on starts `receiptsSince` anew;
   * `updatedAt` moves only when something changed.
   */
  async updateSettings(
    orgId: string,
    userId: string,
    changes: { visibility?: Visibility; readReceipts?: boolean },
  ): Promise<MemberSnapshot> {
    const visibility = changes.visibility ?? null;
    const receipts = changes.readReceipts ?? null;
    const row = await this.db.one<MemberSnapshot>(
      `update memberships m set
              visibility = coalesce(?::text, m.visibility),
              read_receipts = coalesce(?::boolean, m.read_receipts),
              receipts_since = case when ?::boolean and not m.read_receipts then now() else m.receipts_since end,
              updated_at = case when (coalesce(?::text, m.visibility), coalesce(?::boolean, m.read_receipts))
                                     is distinct from (m.visibility, m.read_receipts)
                                then now() else m.updated_at end
        where m.org_id = ? and m.user_id = ?
        returning ${MEMBER_COLUMNS}`,
      [visibility, receipts, receipts, visibility, receipts, orgId, userId],
    );
    return row!;
  }

  /**
   * Creates or updates (and reactivates) a membership; the org and user exist from then on.
   * `updatedAt` moves only when something changed; turning receipts back on starts
   * `receiptsSince` anew.
   */
  async provision(
    orgId: string,
    userId: string,
    input: ProvisionInput,
  ): Promise<{ member: MemberSnapshot; created: boolean }> {
    await this.db.query('insert into orgs (id) values (?) on conflict do nothing', [orgId]);
    await this.db.query('insert into users (id) values (?) on conflict do nothing', [userId]);
    const visibility = input.visibility ?? null;
    const receipts = input.readReceipts ?? null;
    const row = await this.db.one<MemberSnapshot & { created: boolean }>(
      `insert into memberships as m (org_id, user_id, display_name, role, visibility, read_receipts)
       values (?, ?, ?, ?, coalesce(?::text, 'visible'), coalesce(?::boolean, true))
       on conflict (org_id, user_id) do update set
              display_name = excluded.display_name,
              role = excluded.role,
              visibility = coalesce(?::text, m.visibility),
              read_receipts = coalesce(?::boolean, m.read_receipts),
              receipts_since = case when ?::boolean and not m.read_receipts then now() else m.receipts_since end,
              active = true,
              updated_at = case when (excluded.display_name, excluded.role, coalesce(?::text, m.visibility),
                                      coalesce(?::boolean, m.read_receipts), true)
                                     is distinct from (m.display_name, m.role, m.visibility, m.read_receipts, m.active)
                                then now() else m.updated_at end
       returning ${MEMBER_COLUMNS}, (xmax = 0) as created`,
      [
        orgId,
        userId,
        input.displayName,
        input.role,
        visibility,
        receipts,
        visibility,
        receipts,
        receipts,
        visibility,
        receipts,
      ],
    );
    const { created, ...member } = row!;
    return { member, created };
  }

  /** Soft deactivation; false when there is no such member. Idempotent. */
  async deactivate(orgId: string, userId: string): Promise<boolean> {
    const row = await this.db.one<{ found: boolean }>(
      `with target as (select 1 from memberships where org_id = ? and user_id = ?),
            changed as (update memberships set active = false, updated_at = now()
                         where org_id = ? and user_id = ? and active returning 1)
       select exists (select 1 from target) as found`,
      [orgId, userId, orgId, userId],
    );
    return row?.found ?? false;
  }

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
