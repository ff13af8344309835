import { Injectable } from '@nestjs/common';
import { Problems } from '../platform/http/problem';
import {
  decodeCursor,
  pageLimit,
  toPage,
  type Page,
  type PageQuery,
} from '../platform/http/pagination';
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
    if (userId === tenant.userId) throw Problems.badRequest('You cannot block yourself.', 'id');
    const result = await this.repo.set(tenant.userId, tenant.role, userId, true);
    if (result.status === 'not-found') throw Problems.notFound('Member');
    return {
      created: result.status === 'created',
      block: { blockedUserId: userId, createdAt: new Date(result.createdAt!).toISOString() },
    };
  }

  async unblock(tenant: Tenant, userId: string): Promise<void> {
    if (userId === tenant.userId) throw Problems.badRequest('You cannot block yourself.', 'id');
    const result = await this.repo.set(tenant.userId, tenant.role, userId, false);
    if (result.status === 'not-found') throw Problems.notFound('Member');
  }

  async list(tenant: Tenant, query: PageQuery): Promise<Page<BlockedUserResponse>> {
    const limit = pageLimit(query.limit);
    const after = query.cursor
      ? decodeCursor<[string, string]>(query.cursor, ['timestamp', 'uuid'])
      : null;
    const rows = await this.repo.list(tenant.orgId, tenant.userId, limit + 1, after);
    return toPage(
      rows,
      limit,
      (r) => ({
        blockedUserId: r.blockedUserId,
        createdAt: new Date(r.createdAt).toISOString(),
        user: { userId: r.blockedUserId, displayName: r.displayName, role: r.role },
      }),
      (r) => [r.createdKey, r.blockedUserId],
    );
  }
}
