import { Injectable } from '@nestjs/common';
import { BlockProblems } from './blocks.problems';
import { cursorList, type Page, type PageQuery } from '../platform/http/pagination';
import type { Tenant } from '../platform/tenancy/tenant-context';
import type { BlockResponse, BlockedUserResponse } from './dto/block.response';
import { BlocksRepository } from './blocks.repository';

/**
 * Blocking (SPEC §2 "Blocking"). The rules other modules apply live in SQL next to the data they
 * guard (send, start, directory, notifications): see docs/blocking.md.
 */
@Injectable()
export class BlocksService {
  constructor(private readonly repo: BlocksRepository) {}

  async block(tenant: Tenant, userId: string): Promise<{ created: boolean; block: BlockResponse }> {
    if (userId === tenant.userId) throw BlockProblems.blockYourself();
    const result = await this.repo.set(tenant.userId, tenant.role, userId, true);
    if (result.status === 'not-found') throw BlockProblems.memberNotFound();
    return {
      created: result.status === 'created',
      block: { blockedUserId: userId, createdAt: new Date(result.createdAt!).toISOString() },
    };
  }

  async unblock(tenant: Tenant, userId: string): Promise<void> {
    if (userId === tenant.userId) throw BlockProblems.blockYourself();
    const result = await this.repo.set(tenant.userId, tenant.role, userId, false);
    if (result.status === 'not-found') throw BlockProblems.memberNotFound();
  }

  async list(tenant: Tenant, query: PageQuery): Promise<Page<BlockedUserResponse>> {
    return cursorList(
      query,
      ['timestamp', 'uuid'],
      (limit, after: [string, string] | null) =>
        this.repo.list(tenant.orgId, tenant.userId, limit, after),
      (r) => ({
        blockedUserId: r.blockedUserId,
        createdAt: new Date(r.createdAt).toISOString(),
        user: { userId: r.blockedUserId, displayName: r.displayName, role: r.role },
      }),
      (r): [string, string] => [r.createdKey, r.blockedUserId],
    );
  }
}
