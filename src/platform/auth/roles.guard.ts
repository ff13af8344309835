import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Problems } from '../http/problem';
import { IS_PUBLIC, ROLES } from './decorators';
import type { Principal, PrincipalRole } from './principal';

const MEMBER_ROLES: PrincipalRole[] = ['resident', 'manager', 'org_admin'];

/**
 * Role checks on the verified token. Routes without @Roles are for members; service tokens may
 * only call routes that name 'service'.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const allowed =
      this.reflector.getAllAndOverride<PrincipalRole[]>(ROLES, targets) ?? MEMBER_ROLES;
    const principal = context.switchToHttp().getRequest<{ user?: Principal }>().user;
    if (!principal) throw Problems.unauthorized();
    if (allowed.includes(principal.role)) return true;
    if (principal.role === 'service') {
      throw Problems.forbidden('Service tokens may only call the provisioning API.');
    }
    throw Problems.forbidden(
      `This action requires the role ${allowed.filter((r) => r !== 'service').join(' or ') || 'service'}.`,
    );
  }
}
