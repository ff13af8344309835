import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Principal, PrincipalRole } from './principal';

export const IS_PUBLIC = 'rm:public';
export const ROLES = 'rm:roles';
export const TICKET_AUTH = 'rm:ticketAuth';

/** No bearer token needed (health, docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Only these token roles may call the route; others get 403. Members by default. */
export const Roles = (...roles: PrincipalRole[]) => SetMetadata(ROLES, roles);

/**
 * The route also takes a stream ticket (`?ticket=`) in place of a bearer token: for EventSource
 * clients, which cannot send headers (SPEC §4a).
 */
export const TicketAuth = () => SetMetadata(TICKET_AUTH, true);

/** The authenticated caller (the guard verified the token), for routes that open no transaction. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => {
    const principal = ctx.switchToHttp().getRequest<{ user?: Principal }>().user;
    if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
    return principal;
  },
);
