import { Injectable } from '@nestjs/common';
import {
  TenantContext,
  type MemberSnapshot,
  type Tenant,
} from '../platform/tenancy/tenant-context';
import { Problems } from '../platform/http/problem';
import { Membership } from './membership.entity';
import type { ProvisionMemberDto } from './dto/provision-member.dto';
import type { UpdateSettingsDto } from './dto/update-settings.dto';
import type { RecipientsQuery } from './dto/recipients.query';
import type { MemberSummary } from './dto/member-summary.response';
import { decodeCursor, pageLimit, toPage, type Page } from '../platform/http/pagination';
import { MembersRepository } from './members.repository';

/** Memberships: the caller's own settings and the service provisioning API. */
@Injectable()
export class MembersService {
  constructor(private readonly repo: MembersRepository) {}

  /** The recipient directory: who the caller may message. */
  async recipients(tenant: Tenant, query: RecipientsQuery): Promise<Page<MemberSummary>> {
    const limit = pageLimit(query.limit);
    const after = query.cursor
      ? decodeCursor<[string, string]>(query.cursor, ['string', 'uuid'])
      : null;
    const search = query.q?.trim() || null;
    const rows = await this.repo.directory({
      orgId: tenant.orgId,
      callerId: tenant.userId,
      staff: tenant.role !== 'resident',
      search,
      after,
      limit: limit + 1,
    });
    return toPage(
      rows,
      limit,
      (r) => ({ userId: r.userId, displayName: r.displayName, role: r.role }),
      (r) => [r.sortKey, r.userId],
    );
  }

  async updateSettings(tenant: Tenant, changes: UpdateSettingsDto): Promise<MemberSnapshot> {
    const em = TenantContext.em();
    const membership = await em.findOneOrFail(Membership, {
      orgId: tenant.orgId,
      userId: tenant.userId,
    });
    let changed = false;
    if (changes.visibility !== undefined && changes.visibility !== membership.visibility) {
      membership.visibility = changes.visibility;
      changed = true;
    }
    if (changes.readReceipts !== undefined && changes.readReceipts !== membership.readReceipts) {
      membership.readReceipts = changes.readReceipts;
      // Turning receipts back on reveals only reads made from now on.
      if (changes.readReceipts) membership.receiptsSince = new Date();
      changed = true;
    }
    // updatedAt says when the membership last changed: a request that changes nothing keeps it.
    if (changed) {
      membership.updatedAt = new Date();
      await em.flush();
    }
    return snapshot(membership);
  }

  /** Creates or updates (and reactivates) a membership. The org and user exist from then on. */
  async provision(
    orgId: string,
    userId: string,
    input: ProvisionMemberDto,
  ): Promise<{ member: MemberSnapshot; created: boolean }> {
    const em = TenantContext.em();
    await em.execute('insert into orgs (id) values (?) on conflict do nothing', [orgId]);
    await em.execute('insert into users (id) values (?) on conflict do nothing', [userId]);
    let membership = await em.findOne(Membership, { orgId, userId });
    const created = !membership;
    const now = new Date();
    if (!membership) {
      membership = em.create(Membership, {
        orgId,
        userId,
        displayName: input.displayName,
        role: input.role,
        visibility: input.visibility ?? 'visible',
        readReceipts: input.readReceipts ?? true,
        receiptsSince: now,
        active: true,
        createdAt: now,
        updatedAt: now,
      });
    } else {
      const before = JSON.stringify(snapshot(membership));
      membership.displayName = input.displayName;
      membership.role = input.role;
      if (input.visibility !== undefined) membership.visibility = input.visibility;
      if (input.readReceipts !== undefined && input.readReceipts !== membership.readReceipts) {
        membership.readReceipts = input.readReceipts;
        if (input.readReceipts) membership.receiptsSince = now;
      }
      membership.active = true;
      if (JSON.stringify(snapshot(membership)) !== before) membership.updatedAt = now;
    }
    await em.flush();
    return { member: snapshot(membership), created };
  }

  /** Soft deactivation: the member's token gets 403 and they cannot be messaged. */
  async deactivate(orgId: string, userId: string): Promise<void> {
    const em = TenantContext.em();
    const membership = await em.findOne(Membership, { orgId, userId });
    if (!membership) throw Problems.notFound('Member');
    if (membership.active) {
      membership.active = false;
      membership.updatedAt = new Date();
      await em.flush();
    }
  }
}

function snapshot(m: Membership): MemberSnapshot {
  return {
    userId: m.userId,
    displayName: m.displayName,
    role: m.role,
    visibility: m.visibility,
    readReceipts: m.readReceipts,
    receiptsSince: m.receiptsSince,
    active: m.active,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}
