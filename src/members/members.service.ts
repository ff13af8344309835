import { Injectable } from '@nestjs/common';
import type { MemberSnapshot, Tenant } from '../platform/tenancy/tenant-context';
import { MemberProblems } from './members.problems';
import type { ProvisionMemberDto } from './dto/provision-member.dto';
import type { UpdateSettingsDto } from './dto/update-settings.dto';
import type { RecipientsQuery } from './dto/recipients.query';
import type { MemberSummary } from './dto/member-summary.response';
import { cursorList, type Page } from '../platform/http/pagination';
import { MembersRepository } from './members.repository';

/** Memberships: the caller's own settings and the service provisioning API. */
@Injectable()
export class MembersService {
  constructor(private readonly repo: MembersRepository) {}

  /** The recipient directory: who the caller may message. */
  recipients(tenant: Tenant, query: RecipientsQuery): Promise<Page<MemberSummary>> {
    const search = query.q?.trim() || null;
    return cursorList(
      query,
      ['string', 'uuid'],
      (limit, after: [string, string] | null) =>
        this.repo.directory({
          orgId: tenant.orgId,
          callerId: tenant.userId,
          staff: tenant.role !== 'resident',
          search,
          after,
          limit,
        }),
      (r) => ({ userId: r.userId, displayName: r.displayName, role: r.role }),
      (r): [string, string] => [r.sortKey, r.userId],
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
    if (!(await this.repo.deactivate(orgId, userId))) throw MemberProblems.memberNotFound();
  }
}
