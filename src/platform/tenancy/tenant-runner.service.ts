import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import type { Principal, PrincipalRole } from '../auth/principal';
import { memberRoleRefusal, memberRoles, requiredRoles } from '../auth/roles.guard';
import { PgPool } from '../database/pg-pool';
import { Problems, ProblemError } from '../http/problem';
import { currentTraceparent, traceparentStatement } from '../tracing/tracing';
import type { SqlQuery } from './db.service';
import {
  TenantContext,
  type MemberSnapshot,
  type Tenant,
  type TenantScope,
} from './tenant-context';

/**
 * A route that is one statement: a function `rm_api_…` taking the tenant entry's parameters, then
 * `params`, and returning the member's columns, then `columns` (TenantRunner.callAsMember).
 */
export interface RouteCall {
  fn: string;
  params: unknown[];
  columns: string;
}

export interface MemberRunOptions {
  /**
   * The member roles the route is restricted to (its @Roles), checked against the membership as
   * stored once the transaction has resolved it; undefined: every member role.
   */
  roles?: readonly PrincipalRole[];
}

const MEMBER_COLUMNS = `user_id as "userId", display_name as "displayName", role, visibility,
       read_receipts as "readReceipts", receipts_since as "receiptsSince", active,
       created_at as "createdAt", updated_at as "updatedAt"`;

type Literal = (value: string) => string;

/**
 * BEGIN and the tenant entry in one round trip (two statements of the simple protocol, so the
 * values are inlined as escaped literals: ids come from a verified token and are UUIDs, the name
 * is escaped by the driver). Saves a round trip on every request.
 */
export function beginAsMember(principal: Principal, jit: boolean, literal: Literal): string {
  const text = (value: string | null) => (value === null ? 'null' : literal(value));
  const claims = tokenClaims(principal, jit);
  return `BEGIN; select ${MEMBER_COLUMNS} from rm_enter_tenant(${text(principal.orgId)}::uuid, ${text(
    principal.userId,
  )}::uuid, ${text(claims.name)}, ${text(claims.role)}, ${claims.jit})${traceparentStatement()}`;
}

/**
 * What the tenant entry takes from the token: the name and role claims (refreshing the
 * membership), and whether to provision it just in time. A stream ticket carries no claims:
 * nothing to provision, nothing to refresh.
 */
function tokenClaims(principal: Principal, jit: boolean) {
  const claims = !principal.ticket;
  return {
    name: claims ? principal.name : null,
    role: claims ? principal.role : null,
    jit: jit && claims,
  };
}

export function beginInScope(scope: TenantScope, literal: Literal): string {
  const userId = scope.userId === null ? 'null' : literal(scope.userId);
  return `BEGIN; select * from rm_enter_tenant(${literal(scope.orgId)}::uuid, ${userId}::uuid, null, null, false)${traceparentStatement()}`;
}

/**
 * The one tenant transaction of the service. Opens a transaction on one pooled connection whose
 * first statement sets app.org_id / app.user_id (transaction-local, so nothing leaks to the next
 * user of the connection), and runs `fn` inside the AsyncLocalStorage context holding that
 * connection (Db runs every repository's SQL on it). The HTTP interceptor and the job processors
 * both go through here.
 */
@Injectable()
export class TenantRunner {
  constructor(
    private readonly pg: PgPool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Runs `fn` in a transaction scoped to an org (and optionally a user), no membership needed. */
  run<T>(scope: TenantScope, fn: () => Promise<T>): Promise<T> {
    return this.pg.transaction(
      (client) => TenantContext.run({ client, scope }, fn),
      (client) => beginInScope(scope, (v) => client.escapeLiteral(v)),
    );
  }

  /**
   * Runs `fn` as a member: resolves (or just-in-time provisions) the membership in the same
   * transaction. Inactive or missing memberships are refused with 403, and so is a member whose
   * stored role is not among `options.roles`. A refusal rolls the transaction back like any error:
   * a refused request changes nothing (the claims it carried are applied by the next request).
   */
  runAsMember<T>(
    principal: Principal,
    fn: (tenant: Tenant) => Promise<T>,
    options: MemberRunOptions = {},
  ): Promise<T> {
    const orgId = memberOrg(principal);
    if (!orgId) return Promise.reject(serviceRefusal());
    const jit = this.config.auth.jitProvisioning;
    const scope = { orgId, userId: principal.userId };
    return this.pg.transaction(
      (client, opened) => {
        const member = opened[1]?.rows[0] as MemberSnapshot | undefined;
        const tenant = admit(principal, member, options.roles);
        return TenantContext.run({ client, scope, tenant }, () => fn(tenant));
      },
      (client) => beginAsMember(principal, jit, (v) => client.escapeLiteral(v)),
    );
  }

  /**
   * A route that is one statement (issue 17): `route.fn` names a function `rm_api_…` whose first
   * parameters are the tenant entry's (rm_api_enter), then `route.params`, and which returns the
   * member's columns, then `route.columns`. Run outside BEGIN, it is one round trip and one
   * implicit transaction: locks are held only while PostgreSQL works. A member the route does
   * not admit is refused as runAsMember refuses it; a refusal of the route's own (SQLSTATE RMREF,
   * the statement rolled back whole) comes back as a RouteRefused with its status.
   */
  async callAsMember<T>(
    principal: Principal,
    route: RouteCall,
    options: MemberRunOptions = {},
  ): Promise<{ tenant: Tenant; row: T }> {
    const orgId = memberOrg(principal);
    if (!orgId) throw serviceRefusal();
    const jit = this.config.auth.jitProvisioning;
    let rows: (MemberSnapshot & T)[];
    try {
      rows = await this.pg.call<MemberSnapshot & T>(
        routeStatement(principal, jit, options.roles, currentTraceparent(), route),
      );
    } catch (error) {
      const refused = routeRefusal(error);
      if (refused === null) throw error;
      throw refusalOfMember(refused, options.roles) ?? new RouteRefused(refused);
    }
    const member = rows[0];
    return { tenant: { orgId, userId: principal.userId, role: member.role, member }, row: member };
  }
}

/**
 * The one statement of a route (callAsMember; the bench's floor runs it too): the route function
 * called with the tenant entry's parameters (org, user, the token's claims, the member roles the
 * route admits, the trace context), then the route's own.
 */
export function routeStatement(
  principal: Principal,
  jit: boolean,
  roles: readonly PrincipalRole[] | undefined,
  traceparent: string | null,
  route: RouteCall,
): SqlQuery {
  const claims = tokenClaims(principal, jit);
  const entry = [
    principal.orgId,
    principal.userId,
    claims.name,
    claims.role,
    claims.jit,
    memberRoles(roles),
    traceparent,
  ];
  const placeholders = [...entry, ...route.params].map(() => '?').join(', ');
  return {
    sql: `select ${MEMBER_COLUMNS}, ${route.columns} from ${route.fn}(${placeholders})`,
    params: [...entry, ...route.params],
  };
}

function memberOrg(principal: Principal): string | null {
  return principal.orgId && principal.role !== 'service' ? principal.orgId : null;
}

const serviceRefusal = () =>
  Problems.forbidden('Service tokens may only call the provisioning API.');

/**
 * The caller's membership as the transaction resolved it, admitted or refused: 403 without a
 * membership, for an inactive one, and for a role the route does not allow.
 */
function admit(
  principal: Principal,
  member: MemberSnapshot | undefined,
  roles: readonly PrincipalRole[] | undefined,
): Tenant {
  if (!member) throw refusalOfMember('not-member', roles)!;
  if (!member.active) throw refusalOfMember('membership-inactive', roles)!;
  const refusal = memberRoleRefusal(roles, member.role);
  if (refusal) throw Problems.forbidden(refusal);
  return { orgId: principal.orgId!, userId: principal.userId, role: member.role, member };
}

/** The 403 of a member refused by rm_api_enter or by admit; null for any other status. */
function refusalOfMember(
  status: string,
  roles: readonly PrincipalRole[] | undefined,
): ProblemError | null {
  switch (status) {
    case 'not-member':
      return Problems.forbidden('You are not a member of this organization.');
    case 'membership-inactive':
      return new ProblemError(
        403,
        'membership-inactive',
        'Membership inactive',
        'Your membership in this organization is inactive.',
      );
    case 'role-refused':
      return Problems.forbidden(requiredRoles(memberRoles(roles) ?? []));
    default:
      return null;
  }
}

/** A route function refused the request (SQLSTATE RMREF): its status, else null. */
function routeRefusal(error: unknown): string | null {
  const e = error as { code?: unknown; message?: unknown } | null;
  return e?.code === 'RMREF' && typeof e.message === 'string' ? e.message : null;
}

/** A route function's own refusal (a status such as not-found): the service maps it. */
export class RouteRefused extends Error {
  constructor(readonly status: string) {
    super(`refused: ${status}`);
  }
}
