import { Injectable } from '@nestjs/common';
import type { MemberSnapshot, Tenant } from '../platform/tenancy/tenant-context';
import { Problems } from '../platform/http/problem';
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

  updateSettings(tenant: Tenant, changes: UpdateSettingsDto): Promise<MemberSnapshot> {
    return this.repo.updateSettings(tenant.orgId, tenant.userId, changes);
  }

  /** Creates or updates (and reactivates) a membership. The org and user exist from then on. */
  provision(
    orgId: string,
    userId: string,
    input: ProvisionMemberDto,
  ): Promise<{ member: MemberSnapshot; created: boolean }> {
    return this.repo.provision(orgId, userId, input);
  }

  /** Soft deactivation: the member's token gets 403 and they cannot be messaged. */
  async deactivate(orgId: string, userId: string): Promise<void> {
    if (!(await this.repo.deactivate(orgId, userId))) throw Problems.notFound('Member');
  }
}
