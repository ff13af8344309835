import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Problems } from '../http/problem';
import { IS_PUBLIC, ROLES } from './decorators';
import type { Principal, PrincipalRole } from './principal';

/**
 * The token decides one thing only: service token or member token. Routes that name 'service'
 * take service tokens only; every other route takes member tokens only. Which member roles may
 * call a route is checked against the membership as stored, once the tenant transaction has
 * resolved it (TenantContextInterceptor, memberRoleRefusal): never against the token's `role`
 * claim, which a demoted admin may still carry (SPEC §2 "Authorization").
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const allowed = this.reflector.getAllAndOverride<PrincipalRole[]>(ROLES, targets);
    const principal = context.switchToHttp().getRequest<{ user?: Principal }>().user;
    if (!principal) throw Problems.unauthorized();
    const serviceRoute = allowed?.includes('service') ?? false;
    if (principal.role === 'service' && !serviceRoute) {
      throw Problems.forbidden('Service tokens may only call the provisioning API.');
    }
    if (principal.role !== 'service' && serviceRoute) {
      throw Problems.forbidden('This action requires the role service.');
    }
    return true;
  }
}

/**
 * Why a member with this (stored) role may not call a route restricted to `allowed`, or null
 * when they may. Routes without @Roles are open to every member role.
 */
export function memberRoleRefusal(
  allowed: readonly PrincipalRole[] | undefined,
  role: PrincipalRole,
): string | null {
  const roles = memberRoles(allowed);
  if (!roles || roles.includes(role)) return null;
  return requiredRoles(roles);
}

/** The member roles a route is restricted to, or null when every member role may call it. */
export function memberRoles(allowed: readonly PrincipalRole[] | undefined): PrincipalRole[] | null {
  const roles = allowed?.filter((r) => r !== 'service');
  return roles?.length ? roles : null;
}

/** The refusal's text for a member whose role is not among the route's member roles. */
export function requiredRoles(roles: readonly PrincipalRole[]): string {
  return `This action requires the role ${roles.join(' or ')}.`;
}
