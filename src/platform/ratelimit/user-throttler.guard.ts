import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { IS_PUBLIC } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { ProblemError } from '../http/problem';
import { markRateLimited } from '../metrics/http-metrics';

/** Per-user limits (after the JWT guard, so the user is known). 429 with Retry-After. */
@Injectable()
export class UserThrottlerGuard extends ThrottlerGuard {
  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    return Promise.resolve(Boolean(isPublic));
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const user = req.user as Principal | undefined;
    return Promise.resolve(user ? `${user.orgId ?? 'service'}:${user.userId}` : 'anonymous');
  }

  protected override generateKey(
    _context: ExecutionContext,
    tracker: string,
    name: string,
  ): string {
    return `${name}:${tracker}`;
  }

  protected override throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    // The key is `${name}:${tracker}` (generateKey): the name is the limit (reads, writes).
    markRateLimited(context.switchToHttp().getRequest<object>(), detail.key.split(':')[0]);
    throw new ProblemError(
      429,
      'rate-limited',
      'Too many requests',
      'Too many requests; retry after the number of seconds in Retry-After.',
      undefined,
      { 'retry-after': String(Math.max(1, detail.timeToBlockExpire)) },
    );
  }
}
