import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { TenantContext, type Tenant } from '../tenancy/tenant-context';
import type { PrincipalRole } from './principal';

export const IS_PUBLIC = 'rm:public';
export const ROLES = 'rm:roles';

/** No bearer token needed (health, docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Only these token roles may call the route; others get 403. Members by default. */
export const Roles = (...roles: PrincipalRole[]) => SetMetadata(ROLES, roles);

/** The acting member, resolved inside the request's tenant transaction. */
export const CurrentTenant = createParamDecorator((_: unknown, _ctx: ExecutionContext): Tenant => {
  const tenant = TenantContext.tenant();
  if (!tenant) throw new Error('CurrentTenant used on a route without a member tenant context');
  return tenant;
});
