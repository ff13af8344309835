import {
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type OnModuleInit,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { IS_PUBLIC } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { ProblemError } from '../http/problem';
import { markRateLimited } from '../metrics/http-metrics';
import { LocalLimits } from './local-limits';

interface LimitedRequest {
  method: string;
  user?: Principal;
}

/** The per-user limits' window. */
const WINDOW_MS = 1000;

/**
 * Per-user limits (after the JWT guard, so the user is known): reads (GET, HEAD) and writes (the
 * rest), each RATE_LIMIT_*_PER_SECOND in fixed one-second windows, shared by every API process
 * (LocalLimits). A refused request answers 429 `rate-limited` with Retry-After. Public routes
 * are not limited.
 */
@Injectable()
export class UserRateLimitGuard implements CanActivate, OnModuleInit {
  private readonly reads: number;
  private readonly writes: number;
  /** Whether a handler (or its controller) is public, looked up once per handler. */
  private readonly publicHandlers = new WeakMap<object, boolean>();

  constructor(
    private readonly reflector: Reflector,
    private readonly limits: LocalLimits,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.reads = config.rateLimits.readsPerSecond;
    this.writes = config.rateLimits.writesPerSecond;
  }

  /** Joins the API processes before the first request (the count sizes the local shares). */
  onModuleInit(): Promise<void> {
    return this.limits.join();
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const handler = context.getHandler();
    let isPublic = this.publicHandlers.get(handler);
    if (isPublic === undefined) {
      isPublic = Boolean(
        this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, context.getClass()]),
      );
      this.publicHandlers.set(handler, isPublic);
    }
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    const read = request.method === 'GET' || request.method === 'HEAD';
    const limit = read ? 'reads' : 'writes';
    const user = request.user;
    const tracker = user ? `${user.orgId ?? 'service'}:${user.userId}` : 'anonymous';
    const verdict = this.limits.admit(
      `${limit}:${tracker}`,
      read ? this.reads : this.writes,
      WINDOW_MS,
    );
    if (verdict === 0) return true;
    if (typeof verdict === 'number') return refuse(request, limit, verdict);
    return verdict.then((v) => v === 0 || refuse(request, limit, v));
  }
}

function refuse(request: object, limit: string, retryAfterMs: number): never {
  markRateLimited(request, limit);
  throw new ProblemError(
    429,
    'rate-limited',
    'Too many requests',
    'Too many requests; retry after the number of seconds in Retry-After.',
    undefined,
    { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  );
}
