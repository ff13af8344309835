import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { PROBLEM_BASE } from './problem';

export class FieldErrorSchema {
  @ApiProperty({ example: 'body' })
  field!: string;

  @ApiProperty({ example: 'body must not be empty' })
  message!: string;
}

export class ProblemDetails {
  @ApiProperty({
    example: PROBLEM_BASE + 'validation-failed',
    description: 'A URI ending in a stable slug.',
  })
  type!: string;

  @ApiProperty({ example: 'Validation failed' })
  title!: string;

  @ApiProperty({ example: 400 })
  status!: number;

  @ApiProperty({ example: 'body must not be empty' })
  detail!: string;

  @ApiPropertyOptional({ example: '/api/v1/messages/threads', description: 'The request path.' })
  instance?: string;

  @ApiPropertyOptional({ type: () => [FieldErrorSchema], description: 'On validation failures.' })
  errors?: FieldErrorSchema[];
}

const DEFAULTS: Record<
  number,
  { slug: string; title: string; detail: string; description: string }
> = {
  400: {
    slug: 'validation-failed',
    title: 'Validation failed',
    detail: 'limit must be an integer between 1 and 100',
    description: 'Invalid input (problem details with errors[]).',
  },
  401: {
    slug: 'unauthorized',
    title: 'Unauthorized',
    detail: 'A valid bearer token is required (Authorization: Bearer <JWT>).',
    description: 'Missing, malformed, wrongly signed or expired token.',
  },
  403: {
    slug: 'forbidden',
    title: 'Forbidden',
    detail: 'This action requires the role org_admin.',
    description: 'Inactive membership, or a role that may not do this.',
  },
  404: {
    slug: 'not-found',
    title: 'Not found',
    detail: 'Thread was not found.',
    description: 'Unknown, or not visible to you: the two are indistinguishable.',
  },
  409: {
    slug: 'conflict',
    title: 'Conflict',
    detail: 'The request conflicts with the current state.',
    description: 'Conflict.',
  },
  413: {
    slug: 'payload-too-large',
    title: 'Payload too large',
    detail: 'The request body is larger than the limit.',
    description: 'Body over the size limit.',
  },
  415: {
    slug: 'unsupported-media-type',
    title: 'Unsupported media type',
    detail: 'Send the request body as application/json.',
    description: 'Body not sent as JSON.',
  },
  422: {
    slug: 'idempotency-key-reused',
    title: 'Idempotency key reused',
    detail: 'This key was already used for another request.',
    description: 'Unprocessable.',
  },
  429: {
    slug: 'rate-limited',
    title: 'Too many requests',
    detail: 'Too many requests; retry after the number of seconds in Retry-After.',
    description: 'Rate limited; see the Retry-After header.',
  },
  503: {
    slug: 'service-unavailable',
    title: 'Service unavailable',
    detail: 'The service is busy; retry shortly.',
    description: 'Temporarily overloaded.',
  },
};

export interface ProblemDoc {
  status: number;
  slug?: string;
  title?: string;
  detail?: string;
  description?: string;
}

/** Documents problem-details responses; pass a status or a full description of a specific one. */
export function ApiProblems(...problems: (number | ProblemDoc)[]) {
  const byStatus = new Map<number, ProblemDoc[]>();
  for (const p of problems) {
    const doc = typeof p === 'number' ? { status: p } : p;
    byStatus.set(doc.status, [...(byStatus.get(doc.status) ?? []), doc]);
  }
  return applyDecorators(
    ApiExtraModels(ProblemDetails),
    ...[...byStatus.entries()].map(([status, docs]) => {
      const examples: Record<string, { summary: string; value: unknown }> = {};
      for (const doc of docs) {
        const d = DEFAULTS[status] ?? DEFAULTS[400];
        const slug = doc.slug ?? d.slug;
        examples[slug] = {
          summary: doc.description ?? d.description,
          value: {
            type: PROBLEM_BASE + slug,
            title: doc.title ?? d.title,
            status,
            detail: doc.detail ?? d.detail,
            instance: '/api/v1/…',
          },
        };
      }
      return ApiResponse({
        status,
        description: docs
          .map((doc) => doc.description ?? DEFAULTS[status]?.description ?? '')
          .join(' / '),
        content: {
          'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetails) }, examples },
        },
      });
    }),
  );
}

/** A member route: bearer auth, 401/403/429 documented. */
export function ApiMemberRoute() {
  return applyDecorators(ApiBearerAuth('bearer'), ApiProblems(401, 403, 429));
}
