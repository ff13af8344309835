import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { TenantContext, type Tenant } from './tenant-context';

/** The acting member, resolved inside the request's tenant transaction. */
export const CurrentTenant = createParamDecorator((_: unknown, _ctx: ExecutionContext): Tenant => {
  const tenant = TenantContext.tenant();
  if (!tenant) throw new Error('CurrentTenant used on a route without a member tenant context');
  return tenant;
});
