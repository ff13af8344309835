import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { INHERITED_NAMES } from './framework-errors';
import { Problems } from './problem';

/**
 * Input a route does not take is refused rather than ignored (SPEC: unknown body fields → 400;
 * the same for query parameters, so a typo such as `?limt=5` is not silently dropped):
 * - routes without a body DTO (DELETE, block, read-all, retry …): a JSON body must be empty or
 *   absent;
 * - routes without a query DTO (a thread, the unread count …): no query parameters;
 * - query parameters named like inherited members (`constructor`, `toString` …), which the
 *   validation pipe would take for known ones. (Bodies are checked for those by the JSON parser.)
 */
@Injectable()
export class UnexpectedBodyGuard implements CanActivate {
  private readonly cache = new Map<unknown, { body: boolean; query: boolean }>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<{ body?: unknown; query?: unknown }>();
    const takes = this.takes(context);
    const query =
      request.query && typeof request.query === 'object' ? Object.keys(request.query) : [];
    const unknownQuery = takes.query ? query.filter((key) => INHERITED_NAMES.has(key)) : query;
    if (unknownQuery.length) {
      throw Problems.validation(
        unknownQuery.map((field) => ({
          field,
          message: `${field} is not a known query parameter`,
        })),
      );
    }
    const body = request.body;
    if (body === undefined || body === null || takes.body) return true;
    if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)
      return true;
    const fields = typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
    throw Problems.validation(
      fields.length
        ? fields.map((field) => ({ field, message: `${field} is not a known field` }))
        : [{ field: 'body', message: 'this route takes no request body' }],
    );
  }

  private takes(context: ExecutionContext): { body: boolean; query: boolean } {
    const handler = context.getHandler();
    let known = this.cache.get(handler);
    if (known === undefined) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ??
        {}) as Record<string, unknown>;
      const types = Object.keys(args).map((key) => key.split(':')[0]);
      known = {
        body: types.includes(String(RouteParamtypes.BODY)),
        query: types.includes(String(RouteParamtypes.QUERY)),
      };
      this.cache.set(handler, known);
    }
    return known;
  }
}
