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
  const memberRoles: readonly PrincipalRole[] | undefined = allowed?.filter((r) => r !== 'service');
  if (!memberRoles?.length || memberRoles.includes(role)) return null;
  return requiredRoles(memberRoles);
}

/** The refusal's text for a member whose role is not among the route's `memberRoles`. */
export function requiredRoles(memberRoles: readonly PrincipalRole[]): string {
  return `This action requires the role ${memberRoles.join(' or ')}.`;
}
