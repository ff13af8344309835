import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Problems } from '../http/problem';
import { IS_PUBLIC, TICKET_AUTH } from './decorators';
import type { Principal } from './principal';
import { STREAM_TICKETS, type StreamTickets } from './stream-tickets';
import { tokenExpiry, VerifiedTokens } from './verified-tokens';

/**
 * Every route needs a valid bearer token unless marked @Public(); a route marked @TicketAuth()
 * also takes a stream ticket when no Authorization header is sent. A token verified once is
 * remembered until it expires (at most five minutes: VerifiedTokens), so a client's next requests
 * skip Passport and the signature check.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  private readonly verified = new VerifiedTokens();

  constructor(
    private readonly reflector: Reflector,
    @Inject(STREAM_TICKETS) private readonly tickets: StreamTickets,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<{
      headers: Record<string, unknown>;
      query?: Record<string, unknown>;
      user?: Principal;
    }>();
    const header = request.headers.authorization;
    if (typeof header === 'string') {
      const known = this.verified.get(header);
      if (known) {
        request.user = known;
        return true;
      }
    }
    const ticket = request.query?.ticket;
    if (
      this.reflector.getAllAndOverride<boolean>(TICKET_AUTH, targets) &&
      request.headers.authorization === undefined &&
      ticket !== undefined
    ) {
      const claims = typeof ticket === 'string' ? this.tickets.verify(ticket) : null;
      if (!claims) {
        throw Problems.unauthorized(
          'The stream ticket is invalid or has expired; get a new one (POST /api/v1/events/tickets).',
        );
      }
      request.user = {
        userId: claims.userId,
        orgId: claims.orgId,
        role: 'resident',
        name: null,
        ticket: { nonce: claims.nonce, expiresAt: claims.expiresAt },
      };
      return true;
    }
    const allowed = (await super.canActivate(context)) as boolean;
    const exp = allowed && typeof header === 'string' ? tokenExpiry(header) : null;
    if (exp !== null && request.user) this.verified.set(header as string, request.user, exp);
    return allowed;
  }

  override handleRequest<TUser = Principal>(err: unknown, user: unknown, info: unknown): TUser {
    if (err || !user) {
      const expired = info instanceof Error && info.name === 'TokenExpiredError';
      throw Problems.unauthorized(
        expired
          ? 'The bearer token has expired.'
          : 'A valid bearer token is required (Authorization: Bearer <JWT>).',
        expired,
      );
    }
    return user as TUser;
  }
}
