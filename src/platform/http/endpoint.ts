import { applyDecorators, HttpCode, SetMetadata, UseInterceptors, type Type } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { OWN_TRANSACTIONS } from '../tenancy/own-transactions.decorator';
import { TenantContextInterceptor } from '../tenancy/tenant-context.interceptor';
import { CURSOR_DESCRIPTION } from './decorators';
import {
  ApiJsonBody,
  ApiProblems,
  invalidUuid,
  UNEXPECTED_BODY,
  type ProblemEntry,
} from './api-docs';

export interface EndpointSpec {
  /** The OpenAPI operationId: a plain verb, the typed client's method name (`sendMessage`). */
  operation: string;
  summary: string;
  description?: string;
  /**
   * The success answers by status. With one, it is the route's status (HttpCode); with several
   * (201 created / 200 existed), the handler sets it.
   */
  responses: Partial<
    Record<
      200 | 201 | 202 | 204,
      { type?: Type | [Type]; description: string; content?: Record<string, object> }
    >
  >;
  /** UUID path parameters: a malformed one answers 400 naming it (documented here). */
  params?: Record<string, { description: string; example: string }>;
  /**
   * true: a JSON body (400 malformed, 413, 415 documented); false: no body (a non-empty one is
   * refused); left out for GET routes.
   */
  body?: boolean;
  /** The Idempotency-Key header, the same key space as clientMessageId. */
  idempotencyKey?: boolean;
  /**
   * The opaque `cursor` of a cursor-paginated list: an example, shown in its description (an
   * optional parameter carries no `example`, which Swagger UI would send on every "Try it out").
   */
  cursorExample?: string;
  /**
   * The JSON body's class and the example Swagger UI sends (rather than one built from every
   * property, optional ones included: e.g. a fixed idempotency key that a second send reuses).
   */
  bodyExample?: { type: Type; summary: string; value: Record<string, unknown> };
  /** The refusals this route may answer, beyond those its controller documents for every route. */
  problems?: ProblemEntry[];
  /**
   * The handler opens its tenant work itself (TenantRunner: one statement, or transactions of its
   * own for a long-lived response) instead of running inside a tenant transaction that
   * TenantContextInterceptor opens. Such a route has no interceptor at all, so Nest skips its
   * interceptor chain (rxjs, async-hooks binds: issue 17).
   */
  ownTransactions?: true;
}

/**
 * One decorator per route for its API contract: operation, success answers, path parameters,
 * body, headers and every problem it may answer, so a route reads as one declaration; and how it
 * runs: inside a tenant transaction (TenantContextInterceptor, the default) or on its own
 * (`ownTransactions`).
 */
export function Endpoint(spec: EndpointSpec) {
  const statuses = Object.keys(spec.responses).map(Number);
  const params = Object.entries(spec.params ?? {});
  return applyDecorators(
    spec.ownTransactions
      ? SetMetadata(OWN_TRANSACTIONS, true)
      : UseInterceptors(TenantContextInterceptor),
    ApiOperation({
      operationId: spec.operation,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
    }),
    ...(statuses.length === 1 ? [HttpCode(statuses[0])] : []),
    ...Object.entries(spec.responses).map(([status, r]) =>
      ApiResponse({
        status: Number(status),
        description: r.description,
        ...(r.type ? { type: r.type } : {}),
        ...(r.content ? { content: r.content } : {}),
      }),
    ),
    ...params.map(([name, p]) =>
      ApiParam({
        name,
        description: p.description,
        format: 'uuid',
        type: String,
        example: p.example,
      }),
    ),
    ...(spec.idempotencyKey
      ? [
          ApiHeader({
            name: 'Idempotency-Key',
            required: false,
            description:
              'Same key space as `clientMessageId` (1–64 printable ASCII characters); if both are given they must match. Example: `a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d` (use a fresh key per new request).',
          }),
        ]
      : []),
    ...(spec.cursorExample
      ? [
          ApiQuery({
            name: 'cursor',
            required: false,
            type: String,
            description: `${CURSOR_DESCRIPTION} Example: \`${spec.cursorExample}\`.`,
          }),
        ]
      : []),
    ...(spec.bodyExample
      ? [
          ApiBody({
            type: spec.bodyExample.type,
            examples: {
              default: { summary: spec.bodyExample.summary, value: spec.bodyExample.value },
            },
          }),
        ]
      : []),
    ...(spec.body === true ? [ApiJsonBody()] : []),
    ApiProblems(
      ...params.map(([name]) => invalidUuid(name)),
      ...(spec.body === false ? [UNEXPECTED_BODY] : []),
      ...(spec.problems ?? []),
    ),
  );
}
