import { Inject, Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { Problems, ProblemError } from '../http/problem';
import type { Principal } from '../auth/principal';
import {
  TenantContext,
  type MemberSnapshot,
  type Tenant,
  type TenantScope,
} from './tenant-context';

/**
 * Opens a tenant transaction: forks the EntityManager, begins a transaction whose first statement
 * sets app.org_id / app.user_id (transaction-local, so nothing leaks to the next user of the pooled
 * connection), and runs `fn` inside the AsyncLocalStorage context. The HTTP interceptor and the
 * job processors both go through here.
 */
@Injectable()
export class TenantRunner {
  constructor(
    private readonly orm: MikroORM,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Runs `fn` in a transaction scoped to an org (and optionally a user), no membership needed. */
  run<T>(scope: TenantScope, fn: () => Promise<T>): Promise<T> {
    return this.transaction(async (em) => {
      await em.execute('select * from rm_enter_tenant(?, ?, null, null, false)', [
        scope.orgId,
        scope.userId,
      ]);
      return TenantContext.run({ scope, em }, fn);
    });
  }

  /**
   * Runs `fn` as a member: resolves (or just-in-time provisions) the membership in the same
   * transaction. Inactive or missing memberships are refused with 403.
   */
  runAsMember<T>(principal: Principal, fn: (tenant: Tenant) => Promise<T>): Promise<T> {
    const orgId = principal.orgId;
    if (!orgId || principal.role === 'service') {
      return Promise.reject(
        Problems.forbidden('Service tokens may only call the provisioning API.'),
      );
    }
    return this.transaction(async (em) => {
      const rows = await em.execute<MemberSnapshot[]>(
        `select user_id as "userId", display_name as "displayName", role, visibility,
                read_receipts as "readReceipts", receipts_since as "receiptsSince", active,
                created_at as "createdAt", updated_at as "updatedAt"
           from rm_enter_tenant(?, ?, ?, ?, ?)`,
        [orgId, principal.userId, principal.name, principal.role, this.config.auth.jitProvisioning],
      );
      const member = rows[0];
      if (!member) {
        throw Problems.forbidden('You are not a member of this organization.');
      }
      if (!member.active) {
        throw new ProblemError(
          403,
          'membership-inactive',
          'Membership inactive',
          'Your membership in this organization is inactive.',
        );
      }
      const tenant: Tenant = { orgId, userId: principal.userId, role: member.role, member };
      return TenantContext.run({ scope: { orgId, userId: principal.userId }, em, tenant }, () =>
        fn(tenant),
      );
    });
  }

  private async transaction<T>(fn: (em: MikroORM['em']) => Promise<T>): Promise<T> {
    const em = this.orm.em.fork({ clear: true, useContext: false });
    try {
      return await em.transactional((tem) => fn(tem));
    } catch (error) {
      throw translateDbError(error);
    }
  }
}

/** Pool saturation becomes a 503 rather than a hung request or a 500. */
export function translateDbError(error: unknown): unknown {
  if (error instanceof ProblemError) return error;
  const message = error instanceof Error ? error.message : '';
  if (/Knex: Timeout acquiring a connection|pool is probably full/i.test(message)) {
    return Problems.unavailable('The service is busy; retry shortly.');
  }
  return error;
}
