import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { IS_PUBLIC, ROLES } from '../auth/decorators';
import type { Principal, PrincipalRole } from '../auth/principal';
import { Problems } from '../http/problem';
import { UUID } from '../ids';
import { OutboxSignals } from '../queues/outbox-signals';
import { TenantRunner } from './tenant-runner.service';

/**
 * Runs an authenticated handler inside a tenant transaction (see TenantRunner): every route
 * @Endpoint declares, except those declared `ownTransactions`, which do not get this interceptor.
 * The handler is invoked inside the AsyncLocalStorage context, so services and the Db helper find
 * the transaction without it being threaded through every call. Commit happens before the response
 * is sent: a 2xx means the write is durable.
 */
@Injectable()
export class TenantContextInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly runner: TenantRunner,
    private readonly signals: OutboxSignals,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return next.handle();

    const request = context
      .switchToHttp()
      .getRequest<{ user?: Principal; params?: Record<string, string> }>();
    const principal = request.user;
    if (!principal) throw Problems.unauthorized();
    const handle = () => lastValueFrom(next.handle(), { defaultValue: undefined });

    if (principal.role === 'service') {
      const orgId = request.params?.orgId;
      if (!orgId || !UUID.test(orgId)) {
        throw Problems.validation([{ field: 'orgId', message: 'orgId must be a UUID' }]);
      }
      return from(this.runner.run({ orgId: orgId.toLowerCase(), userId: null }, handle));
    }
    // Which member roles may call the route is decided on the membership the transaction
    // resolves, never on the token's role claim.
    const roles = this.reflector.getAllAndOverride<PrincipalRole[] | undefined>(ROLES, targets);
    const committed = this.runner.runAsMember(principal, handle, { roles });
    // A write may have added outbox events: wake their consumers now rather than at their poll.
    const method = context.switchToHttp().getRequest<{ method: string }>().method;
    if (method === 'GET' || method === 'HEAD') return from(committed);
    return from(
      committed.then((result: unknown) => {
        this.signals.committed();
        return result;
      }),
    );
  }
}
