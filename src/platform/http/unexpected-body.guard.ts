import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { Problems } from './problem';

/**
 * Routes without a body DTO (DELETE, block, read-all, retry …) would silently ignore whatever is
 * sent; SPEC says unknown body fields are refused. A JSON body there must be empty (or absent).
 */
@Injectable()
export class UnexpectedBodyGuard implements CanActivate {
  private readonly cache = new Map<unknown, boolean>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const body = context.switchToHttp().getRequest<{ body?: unknown }>().body;
    if (body === undefined || body === null) return true;
    if (this.takesBody(context)) return true;
    if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)
      return true;
    const fields = typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
    throw Problems.validation(
      fields.length
        ? fields.map((field) => ({ field, message: `${field} is not a known field` }))
        : [{ field: 'body', message: 'this route takes no request body' }],
    );
  }

  private takesBody(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let known = this.cache.get(handler);
    if (known === undefined) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ??
        {}) as Record<string, unknown>;
      known = Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.BODY));
      this.cache.set(handler, known);
    }
    return known;
  }
}
